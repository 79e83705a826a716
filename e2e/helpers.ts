import { createServer } from 'node:http';
import type OpenAI from 'openai';
import pg from 'pg';
import { BEDROCK_TEST_CREDENTIALS } from '@gw/testing';

export async function sql<T extends pg.QueryResultRow>(databaseUrl: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

export async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs: number, everyMs = 200): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined | null | false;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

/** Runs `count` tasks with at most `concurrency` in flight. */
export async function pool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= count) return;
        out[i] = await task(i);
      }
    }),
  );
  return out;
}

export const SIM_CONFIG = `
providers:
  - id: sim
    type: openai-compatible
    baseUrl: \${SIMULATOR_URL}
    timeoutMs: 3000
models:
  - name: sim-model
    targets:
      - provider: sim
        model: sim-model
        price: { inputPerMTok: 0.15, outputPerMTok: 0.6 }
`;

/**
 * One configured provider per native format of the simulator (`sim-<format>`), and one model per provider
 * (`via-<format>`), as YAML list items: the e2e specs put them under `providers:` and `models:` beside their own.
 */
export const SIM_FORMAT_PROVIDERS = `  - id: sim-openai
    type: openai-compatible
    baseUrl: \${SIMULATOR_URL}
  - id: sim-anthropic
    type: anthropic
    apiKey: sk-ant-test
    baseUrl: \${SIMULATOR_ROOT_URL}
  - id: sim-gemini
    type: gemini
    apiKey: gemini-test
    baseUrl: \${SIMULATOR_ROOT_URL}
  - id: sim-azure
    type: azure-openai
    apiKey: azure-test
    baseUrl: \${SIMULATOR_ROOT_URL}
    options: { apiVersion: 2024-10-21 }
  - id: sim-mistral
    type: mistral
    apiKey: mistral-test
    baseUrl: \${SIMULATOR_ROOT_URL}/mistral/v1
  - id: sim-deepseek
    type: deepseek
    apiKey: deepseek-test
    baseUrl: \${SIMULATOR_ROOT_URL}/deepseek
  - id: sim-cohere
    type: cohere
    apiKey: cohere-test
    baseUrl: \${SIMULATOR_ROOT_URL}
  - id: sim-bedrock
    type: bedrock
    baseUrl: \${SIMULATOR_ROOT_URL}
    options:
      region: us-east-1
      accessKeyId: ${BEDROCK_TEST_CREDENTIALS.accessKeyId}
      secretAccessKey: ${BEDROCK_TEST_CREDENTIALS.secretAccessKey}
`;

export const SIM_FORMAT_MODELS = `  - name: via-openai
    targets: [{ provider: sim-openai, model: gpt-sim, price: { inputPerMTok: 1, outputPerMTok: 2 } }]
  - name: via-anthropic
    targets: [{ provider: sim-anthropic, model: claude-sim, price: { inputPerMTok: 3, outputPerMTok: 15 } }]
  - name: via-gemini
    targets: [{ provider: sim-gemini, model: gemini-sim, price: { inputPerMTok: 0.3, outputPerMTok: 2.5 } }]
  - name: via-azure
    targets: [{ provider: sim-azure, model: azure-deploy, price: { inputPerMTok: 1, outputPerMTok: 2 } }]
  - name: via-mistral
    targets: [{ provider: sim-mistral, model: mistral-sim, price: { inputPerMTok: 1, outputPerMTok: 2 } }]
  - name: via-deepseek
    targets: [{ provider: sim-deepseek, model: deepseek-sim, price: { inputPerMTok: 1, outputPerMTok: 2 } }]
  - name: via-cohere
    targets: [{ provider: sim-cohere, model: cohere-sim, price: { inputPerMTok: 1, outputPerMTok: 2 } }]
  - name: via-bedrock
    targets: [{ provider: sim-bedrock, model: anthropic.claude-sim-v1:0, price: { inputPerMTok: 3, outputPerMTok: 15 } }]
`;

/** The function tool the e2e specs call through the openai SDK. */
export const weather: OpenAI.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

/** A budget alert as the webhook receives it, with its `x-gateway-alert-id` header. */
/** A request whose cost is the same every time (the simulator answers the same prompt the same way): budgets in units of it. */
export const BUDGET_PROBE = {
  model: 'sim-model',
  messages: [{ role: 'user' as const, content: 'budget probe: say something short' }],
  max_tokens: 16,
};
/** Every such request is paid: a cache hit costs nothing and would (rightly) get past a spent budget, so none may hit. */
export const PAID = { headers: { 'x-gateway-cache': 'no-cache' } };

export type AlertHit = { id: string; body: { id: string; thresholdPct: number; budgetUsd: string; spentUsd: string } };

/** A local budget alerts webhook answering 204: every alert it received lands in `hits`. */
export async function startAlertHook(): Promise<{ url: string; hits: AlertHit[]; close(): Promise<void> }> {
  const hits: AlertHit[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString('utf8')));
    req.on('end', () => {
      hits.push({ id: String(req.headers['x-gateway-alert-id']), body: JSON.parse(text) as AlertHit['body'] });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return {
    url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/budget-alerts`,
    hits,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
