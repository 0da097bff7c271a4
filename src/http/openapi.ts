// The OpenAPI 3.1 description of every route on the service's port, and the docs page at /docs
// (Swagger UI, served from the package's own files: nothing is fetched from the internet).
//
// Routes carry their zod schemas in `schema` (body, querystring, params, headers, response);
// @fastify/swagger collects them as routes are added, and `zodToJsonSchema` turns each into JSON
// Schema with zod's own converter. So the document is generated from the schemas the handlers
// validate with. Where a handler parses its input itself (the business API, to answer in its own
// error format), its scope uses `documentationOnly` as the validator compiler, so the same schema
// is not also run by Fastify. Response schemas describe; `plainJson` keeps Fastify from filtering
// answers through them. test/http/openapi.test.ts checks that every route is described, that the
// examples pass the real validators, and that real answers match the response schemas.
import type { FastifyInstance, FastifySchemaCompiler } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { z } from 'zod';

export const DOCS_PREFIX = '/docs';
export const OPENAPI_JSON_PATH = `${DOCS_PREFIX}/json`;

/** The validator compiler of routes whose handlers parse their input with the same zod schemas. */
export const documentationOnly: FastifySchemaCompiler<unknown> = () => () => true;

/** Answers as JSON.stringify writes them: a response schema documents the answer, it does not filter it. */
export const plainJson = () => (data: unknown) => JSON.stringify(data);

/** zod → JSON Schema (inputs as the client sends them, answers as the service writes them); anything else unchanged. */
export function zodToJsonSchema(schema: unknown, io: 'input' | 'output'): unknown {
  if (!(schema instanceof z.ZodType)) return schema;
  const { $schema: _ignored, ...json } = z.toJSONSchema(schema, { io, unrepresentable: 'any' });
  return json;
}

type RouteSchema = Record<string, unknown>;

/** Converts the zod parts of one route's schema, including per-content-type bodies and responses. */
function transformRouteSchema(schema: RouteSchema): RouteSchema {
  const out: RouteSchema = { ...schema };
  for (const part of ['querystring', 'params', 'headers'] as const) if (part in out) out[part] = zodToJsonSchema(out[part], 'input');
  const body = out.body as { content?: Record<string, { schema: unknown }> } | undefined;
  if (body?.content) {
    out.body = {
      ...body,
      content: Object.fromEntries(
        Object.entries(body.content).map(([type, c]) => [type, { ...c, schema: zodToJsonSchema(c.schema, 'input') }]),
      ),
    };
  } else if (body !== undefined) {
    out.body = zodToJsonSchema(body, 'input');
  }
  if (out.response && typeof out.response === 'object') {
    out.response = Object.fromEntries(
      Object.entries(out.response as Record<string, unknown>).map(([code, r]) => {
        const withContent = r as { content?: Record<string, { schema: unknown }>; description?: string };
        if (withContent && typeof withContent === 'object' && !(r instanceof z.ZodType) && withContent.content) {
          return [
            code,
            {
              ...withContent,
              content: Object.fromEntries(
                Object.entries(withContent.content).map(([type, c]) => [type, { ...c, schema: zodToJsonSchema(c.schema, 'output') }]),
              ),
            },
          ];
        }
        return [code, zodToJsonSchema(r, 'output')];
      }),
    );
  }
  return out;
}

/**
 * Registers the OpenAPI collector (before any route, so it sees all of them) and the docs page.
 * `version` is the service's version, shown in the document.
 */
export async function registerApiDocs(app: FastifyInstance, opts: { version: string }): Promise<void> {
  app.setSerializerCompiler(plainJson);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'evrotrust-signing',
        version: opts.version,
        description:
          'Documents signed through Evrotrust, each signing a durable Temporal workflow. The business API (/v1/signings) takes ' +
          'the API token as a bearer token; the callback routes are for Evrotrust (their callers are checked against an IP allowlist).',
      },
      tags: [
        { name: 'signings', description: 'the business API' },
        { name: 'evrotrust', description: "Evrotrust's callbacks (answered 200 once stored)" },
        { name: 'operations', description: 'health and metrics' },
      ],
      components: { securitySchemes: { apiToken: { type: 'http', scheme: 'bearer', description: 'API_TOKEN' } } },
    },
    transform: ({ schema, url }) => ({
      schema: schema ? (transformRouteSchema(schema as RouteSchema) as typeof schema) : schema,
      // A plugin's '/' route under its prefix is `/v1/signings/` to the collector; callers use `/v1/signings`.
      url: url.length > 1 ? url.replace(/\/$/, '') : url,
    }),
  });
  await app.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    staticCSP: true,
    uiConfig: { docExpansion: 'list', deepLinking: true, tryItOutEnabled: false },
  });
}
