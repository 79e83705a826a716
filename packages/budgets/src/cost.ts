import { costNanoUsd, type PriceConfig } from '@gw/contracts';

/**
 * Worst-case input tokens of a request body, without a tokenizer: its UTF-8 byte length. Every byte-level BPE
 * token covers at least one byte of the text, and the JSON around the messages (keys, quotes, roles) outnumbers
 * the few tokens a chat template adds per message, so the real prompt never counts more tokens than this.
 */
export function worstCaseInputTokens(bodyBytes: number): number {
  return bodyBytes;
}

/** A closer estimate for TPM accounting (corrected after the call): ~4 bytes per token. */
export function estimatedInputTokens(bodyBytes: number): number {
  return Math.ceil(bodyBytes / 4);
}

/**
 * The most a request can cost on any of the model's targets: input priced at the input rate, maxOutputTokens at the
 * output rate, its input images at the target's perImage (costNanoUsd: the rule billing charges by).
 */
export function worstCaseCostNanoUsd(
  prices: readonly (PriceConfig | null | undefined)[],
  inputTokens: number,
  maxOutputTokens: number,
  inputImages: number,
): bigint {
  let worst = 0n;
  for (const price of prices) {
    const c = costNanoUsd(price, { inputTokens, cachedInputTokens: 0, outputTokens: maxOutputTokens, inputImages });
    if (c > worst) worst = c;
  }
  return worst;
}
