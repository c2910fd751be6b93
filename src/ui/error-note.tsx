import { ApiError } from './api.js'

export function ErrorNote({ error }: { error: Error }) {
  return (
    <p role="alert" class="error">
      {error instanceof ApiError ? `${error.code}: ` : ''}
      {error.message}
    </p>
  )
}
