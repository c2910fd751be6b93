import { useLayoutEffect, useState } from 'preact/hooks'
import { ApiError } from './api.js'

export type Loaded<T> = { state: 'loading' } | { state: 'error'; error: ApiError | Error } | { state: 'ready'; data: T }

/**
 * Load once per key; a newer key wins over a slower older answer, and what was loaded for an
 * older key is never shown under a newer one (it reads as loading until its own answer arrives).
 * The load starts as the view is rendered (a layout effect), not after the next frame: a view
 * nested in another that loads does not add a frame's wait to each level.
 */
export function useData<T>(key: string, load: () => Promise<T>): Loaded<T> {
  const [loaded, setLoaded] = useState<{ key: string; value: Loaded<T> } | null>(null)
  useLayoutEffect(() => {
    let current = true
    load().then(
      (data) => current && setLoaded({ key, value: { state: 'ready', data } }),
      (error: Error) => current && setLoaded({ key, value: { state: 'error', error } }),
    )
    return () => {
      current = false
    }
  }, [key])
  return loaded !== null && loaded.key === key ? loaded.value : { state: 'loading' }
}
