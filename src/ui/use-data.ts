import { useEffect, useState } from 'preact/hooks'
import { ApiError } from './api.js'

export type Loaded<T> = { state: 'loading' } | { state: 'error'; error: ApiError | Error } | { state: 'ready'; data: T }

/** Load once per key; a newer key wins over a slower older answer. */
export function useData<T>(key: string, load: () => Promise<T>): Loaded<T> {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: 'loading' })
  useEffect(() => {
    let current = true
    setLoaded({ state: 'loading' })
    load().then(
      (data) => current && setLoaded({ state: 'ready', data }),
      (error: Error) => current && setLoaded({ state: 'error', error }),
    )
    return () => {
      current = false
    }
  }, [key])
  return loaded
}
