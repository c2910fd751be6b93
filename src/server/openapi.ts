import { z } from 'zod'
import { errorCatalogue } from '../errors.js'
import type { RouteSpec } from './route.js'

/** The OpenAPI 3.0 document of the server, written from the same route table and zod schemas that validate requests. */
export function openApiDocument(routes: readonly RouteSpec[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const route of routes) {
    const url = route.url.replace(/:([A-Za-z0-9]+)/g, '{$1}')
    const parameters = [...parametersOf(route.params, 'path'), ...parametersOf(route.query, 'query')]
    const operation: Record<string, unknown> = {
      summary: route.summary,
      tags: [route.tag],
      operationId: `${route.method.toLowerCase()}${url.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      'x-assay-scope': route.scope,
      'x-assay-touches': route.touches,
      parameters,
      responses: {
        [String(route.response.status ?? 200)]: {
          description: route.response.json ?? route.response.binary ?? 'ok',
          content: route.response.binary
            ? { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } }
            : { 'application/json': { schema: { type: 'object' } } },
        },
        default: { description: 'an error with a code from docs/errors.md', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
    }
    if (route.scope !== 'public') operation.security = [{ bearerAuth: [] }]
    if (route.body) {
      const content: Record<string, unknown> = {}
      if (route.body.json) content['application/json'] = { schema: jsonSchema(route.body.json) }
      const binary = route.body.binary ?? route.body.stream
      if (binary !== undefined) content['application/octet-stream'] = { schema: { type: 'string', format: 'binary', description: binary } }
      if (route.body.raw !== undefined) {
        content['application/x-protobuf'] = { schema: { type: 'string', format: 'binary', description: route.body.raw } }
        content['application/json'] = { schema: { type: 'object', description: route.body.raw } }
      }
      operation.requestBody = { required: true, content }
    }
    ;(paths[url] ??= {})[route.method.toLowerCase()] = operation
  }
  paths['/openapi.json'] = { get: { summary: 'this document', tags: ['meta'], 'x-assay-scope': 'public', responses: { 200: { description: 'OpenAPI 3.0 document' } } } }
  return {
    openapi: '3.0.3',
    info: { title: 'assay server', version: '1', description: 'Every store operation of assay over HTTP. See docs/server.md.' },
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API token assay_… created with `assay tokens create`.' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: { code: { type: 'string', enum: Object.keys(errorCatalogue) }, message: { type: 'string' }, details: { type: 'object' } },
            },
          },
        },
      },
    },
  }
}

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const out = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'openapi-3.0' }) as Record<string, unknown>
  delete out.$schema
  return out
}

function parametersOf(schema: z.ZodObject | undefined, where: 'path' | 'query'): Record<string, unknown>[] {
  if (schema === undefined) return []
  return Object.entries(schema.shape).map(([name, field]) => ({
    name,
    in: where,
    required: where === 'path' || !(field as z.ZodType).safeParse(undefined).success,
    schema: jsonSchema(field as z.ZodType),
  }))
}
