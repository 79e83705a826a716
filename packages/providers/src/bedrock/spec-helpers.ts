import { readFileSync } from 'node:fs';
import type { ResolvedProvider } from '../types.js';

/** Test helpers of the Bedrock adapter's specs (not built, not exported). */

/** AWS's documented example credentials (the SigV4 test suite's). */
export const BEDROCK_CREDS = {
  region: 'us-east-1',
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};

/** A Bedrock provider in us-east-1 signed with BEDROCK_CREDS. */
export const BEDROCK_PROVIDER: ResolvedProvider = {
  id: 'b',
  type: 'bedrock',
  baseUrl: 'https://bedrock-runtime.us-east-1.amazonaws.com',
  apiKey: undefined,
  headers: {},
  options: BEDROCK_CREDS,
};

export const BEDROCK_CTX = { model: 'anthropic.claude-3-5-haiku-20241022-v1:0', requestId: 'rq1', created: 1_700_000_000 };

/** A capture of test/fixtures/bedrock. */
export function readBedrockFixture(name: string): string {
  return readFileSync(new URL(`../../test/fixtures/bedrock/${name}`, import.meta.url), 'utf8');
}
