import { useEffect, useState } from 'preact/hooks'

/** A view's place: everything after `#`, so every view has a URL that can be shared. */
export interface Route {
  path: string[]
  query: URLSearchParams
}

export function parseHash(hash: string): Route {
  const text = hash.replace(/^#\/?/, '')
  const q = text.indexOf('?')
  const pathText = q < 0 ? text : text.slice(0, q)
  return { path: pathText.split('/').filter((s) => s !== '').map(decodeURIComponent), query: new URLSearchParams(q < 0 ? '' : text.slice(q + 1)) }
}

export function href(path: string[], query: Record<string, string | undefined> = {}): string {
  const search = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') search.set(k, v)
  const qs = search.toString()
  return `#/${path.map(encodeURIComponent).join('/')}${qs === '' ? '' : `?${qs}`}`
}

export function useRoute(): Route {
  const [hash, setHash] = useState(location.hash)
  useEffect(() => {
    const on = (): void => setHash(location.hash)
    window.addEventListener('hashchange', on)
    return () => window.removeEventListener('hashchange', on)
  }, [])
  return parseHash(hash)
}
