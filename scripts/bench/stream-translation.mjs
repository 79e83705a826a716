// The cost of stream translation per chunk, per provider format: decode + translate a captured stream many times.
export async function streamTranslationBench() {
  return { note: 'filled in when the provider adapters land' };
}
