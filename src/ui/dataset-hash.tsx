import { href } from './route.js'

/**
 * A dataset version's sha256 as every view shows it: the first `chars` characters (the whole on
 * hover), a link to its own view (#/dataset/SHA). One component, so every hash leads there.
 */
export function DatasetHash({ sha, chars = 12, label = '' }: { sha: string; chars?: number; label?: string }) {
  return (
    <a href={href(['dataset', sha])} class="dataset-hash">
      <code title={sha}>
        {label}
        {sha.slice(0, chars)}
      </code>
    </a>
  )
}
