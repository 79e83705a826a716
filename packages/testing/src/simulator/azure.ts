import type { Answer, Generation, Route, RouteRequest, WireFormat } from './format.js';
import { chat, embeddings, openaiFormat } from './openai.js';
import { header, lastUserText, type Json } from './openai-flavours.js';

/**
 * Azure OpenAI: OpenAI's format on deployment paths, `POST /openai/deployments/{deployment}/chat/completions` and
 * `/embeddings`, with `?api-version=` (404 without, as Azure answers) and the `api-key` header or an
 * `Authorization: Bearer` Entra token (401 in Azure's shape without either). The deployment is the model; the body's
 * `model` is optional. Azure's content filter is simulated: a user message that contains AZURE_FILTER_TRIGGER is
 * refused with Azure's 400 `content_filter` error; every answer carries `prompt_filter_results` and per-choice
 * `content_filter_results`, as Azure's do.
 */

export const AZURE_FILTER_TRIGGER = '[sim:azure-content-filter]';
const PREFIX = '/openai/deployments/';
const SAFE = {
  hate: { filtered: false, severity: 'safe' },
  self_harm: { filtered: false, severity: 'safe' },
  sexual: { filtered: false, severity: 'safe' },
  violence: { filtered: false, severity: 'safe' },
};

function azureError(status: number, code: string, message: string): Answer {
  return { kind: 'json', status, body: { error: { code, message } } };
}

function deployment(path: string): { name: string; op: string } | null {
  const rest = path.slice(PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return null;
  return { name: decodeURIComponent(rest.slice(0, slash)), op: rest.slice(slash) };
}

function check(req: RouteRequest): Answer | null {
  if (!/(^|&)api-version=[^&]+/.test(req.query)) return azureError(404, '404', 'Resource not found');
  const key = header(req.headers, 'api-key');
  const bearer = header(req.headers, 'authorization');
  if (!key && !bearer?.startsWith('Bearer ')) {
    return azureError(
      401,
      '401',
      'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
    );
  }
  return null;
}

function handle(raw: unknown, gen: Generation, req: RouteRequest): Answer {
  const refused = check(req);
  if (refused) return refused;
  const d = deployment(req.path);
  if (!d) return azureError(404, '404', 'Resource not found');
  const body: Json = { ...((raw ?? {}) as Json), model: d.name };
  if (d.op === '/embeddings') return embeddings(body);
  if (d.op !== '/chat/completions') return azureError(404, '404', 'Resource not found');
  if (lastUserText(body['messages']).includes(AZURE_FILTER_TRIGGER)) {
    return {
      kind: 'json',
      status: 400,
      body: {
        error: {
          message:
            "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
          type: null,
          param: 'prompt',
          code: 'content_filter',
          status: 400,
          innererror: {
            code: 'ResponsibleAIPolicyViolation',
            content_filter_result: { ...SAFE, violence: { filtered: true, severity: 'high' } },
          },
        },
      },
    };
  }
  const answer = chat(body, gen);
  if (answer.kind === 'json' && answer.status === 200) {
    const b = answer.body as Json;
    b['prompt_filter_results'] = [{ prompt_index: 0, content_filter_results: SAFE }];
    for (const c of b['choices'] as Json[]) c['content_filter_results'] = SAFE;
  }
  return answer;
}

const routes: Route[] = [
  {
    method: 'POST',
    path: PREFIX,
    match: 'prefix',
    handle,
    model: (req) => deployment(req.path)?.name ?? null,
  },
];

export const azureFormat: WireFormat = {
  routes,
  error: (status, message) =>
    message ? azureError(status, String(status), message) : openaiFormat.error(status, null),
  malformed: (stream) => openaiFormat.malformed(stream),
};
