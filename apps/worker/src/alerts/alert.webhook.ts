import { Injectable } from '@nestjs/common';

/** The HTTP side effect of alert delivery: one POST of a JSON body, bounded by a deadline. */
@Injectable()
export class AlertWebhook {
  /** Resolves on a 2xx answer; throws on any other status, a network error or the deadline. */
  async post(url: string, json: string, alertId: string, timeoutMs: number): Promise<void> {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-gateway-alert-id': alertId },
      body: json,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel();
    if (!res.ok) throw new Error(`webhook answered ${res.status}`);
  }
}
