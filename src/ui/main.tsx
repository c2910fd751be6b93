import { render } from 'preact'
import { useState } from 'preact/hooks'
import type { ApiToken } from '../record/types.js'
import { ApiError, getJson, prefetchJson, signIn, signOut } from './api.js'
import { AuditLogView, AuditRecordView } from './audit-view.js'
import { ChartsView } from './charts-view.js'
import { CompareView } from './compare-view.js'
import { DatasetView } from './dataset-view.js'
import { ErrorNote } from './error-note.js'
import { LeaderboardView } from './leaderboard-view.js'
import { DeploymentsView, DeploymentView } from './production-view.js'
import { ModelView, RegistryView } from './registry-view.js'
import { href, parseHash, useRoute } from './route.js'
import { prefetchRunView, RunView } from './run-view.js'
import { RunsView } from './runs-view.js'
import { TraceView } from './trace-view.js'
import { useData } from './use-data.js'
import { VarianceView } from './variance-view.js'
import './app.css'

function SignIn({ reason }: { reason: string }) {
  const [token, setToken] = useState('')
  const [error, setError] = useState<Error | null>(null)
  return (
    <main id="main" class="signin">
      <h1>Sign in to assay</h1>
      <p>{reason}</p>
      <form
        onSubmit={(e) => {
          e.preventDefault()
          signIn(token.trim()).then(() => location.reload(), setError)
        }}
      >
        <label>
          API token <input name="token" type="password" autocomplete="off" size={50} value={token} onInput={(e) => setToken(e.currentTarget.value)} />
        </label>
        <button type="submit">Sign in</button>
      </form>
      {error !== null && <ErrorNote error={error} />}
    </main>
  )
}

function App() {
  const route = useRoute()
  const who = useData('whoami', () => getJson<{ token: ApiToken | null }>('/api/v1/whoami'))
  if (who.state === 'loading') return <p role="status">Loading…</p>
  if (who.state === 'error') {
    if (who.error instanceof ApiError && who.error.status === 401) return <SignIn reason="This server needs an API token (assay tokens create)." />
    return (
      <main id="main">
        <ErrorNote error={who.error} />
      </main>
    )
  }
  const token = who.data.token
  const [view, ...rest] = route.path
  let body
  if (view === 'run' && rest[0] !== undefined) body = <RunView id={rest[0]} />
  else if (view === 'compare') body = <CompareView route={route} />
  else if (view === 'leaderboard') body = <LeaderboardView route={route} />
  else if (view === 'charts') body = <ChartsView route={route} />
  else if (view === 'variance') body = <VarianceView route={route} />
  else if (view === 'registry' && rest[0] !== undefined) body = <ModelView name={rest[0]} />
  else if (view === 'registry') body = <RegistryView />
  else if (view === 'audit' && rest[0] !== undefined) body = <AuditRecordView seq={Number(rest[0])} />
  else if (view === 'audit') body = <AuditLogView route={route} />
  else if (view === 'production') body = <DeploymentsView route={route} />
  else if (view === 'deployment' && rest[0] !== undefined) body = <DeploymentView id={rest[0]} route={route} />
  else if (view === 'trace' && rest[0] !== undefined) body = <TraceView id={rest[0]} />
  else if (view === 'dataset' && rest[0] !== undefined) body = <DatasetView sha={rest[0].toLowerCase()} route={route} />
  else body = <RunsView route={route} />
  const current = view ?? 'runs'
  const link = (name: string, label: string) => (
    <a href={href([name])} aria-current={current === name ? 'page' : undefined}>
      {label}
    </a>
  )
  return (
    <>
      <header>
        <nav aria-label="views">
          <strong>assay</strong> {link('runs', 'Runs')} {link('charts', 'Charts')} {link('compare', 'Compare')} {link('leaderboard', 'Leaderboard')} {link('registry', 'Registry')} {link('audit', 'Audit log')} {link('production', 'Production')}
        </nav>
        <span class="who">
          {token === null ? (
            'local, no sign-in'
          ) : (
            <>
              {token.name} ({token.scope}
              {token.experiments === null ? '' : `: ${token.experiments.join(', ')}`}){' '}
              <button type="button" onClick={() => void signOut().then(() => location.reload())}>
                Sign out
              </button>
            </>
          )}
        </span>
      </header>
      <main id="main">{body}</main>
    </>
  )
}

// The first view's requests start now, together with whoami, rather than each after the view
// that needs it has drawn (whoami, then the run, then its charts: three round trips in a row).
prefetchJson('/api/v1/whoami')
const [firstView, firstId] = parseHash(location.hash).path
if (firstView === 'run' && firstId !== undefined) prefetchRunView(firstId)

render(<App />, document.getElementById('app') as HTMLElement)
