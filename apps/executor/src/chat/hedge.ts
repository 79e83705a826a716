import { GatewayError, type PlanPolicy, type PlanTarget, type Usage } from '@gw/contracts';

/** The losing attempt of a hedged pair: not a failure of its target, and not billed beyond what it reported. */
export class HedgeLost extends GatewayError {
  constructor() {
    super('CANCELLED', 'another target answered first (hedged request)');
  }
}

/** Failures of one step of the walk (one target, or a hedged pair), or 'ok'. */
export type StepResult = 'ok' | Array<{ target: PlanTarget; error: GatewayError }>;

/** One attempt on one target, aborted through `hedge` when the other of its pair answered: null when it answered. */
export type TryTarget = (target: PlanTarget, hedge: AbortSignal | null) => Promise<GatewayError | null>;

/** What a request keeps of its hedged pairs: the target whose answer went to the client, and the losers' usage. */
export type HedgeBook = {
  /** the target whose answer went to the client (hedged requests: the first to answer) */
  winner: PlanTarget | null;
  /** usage the losers of hedged pairs reported (an aborted loser reports none): billed beside the winner's */
  hedgeUsage: Array<{ target: PlanTarget; usage: Usage }>;
};

/** Whether the walk runs `target` as a hedged pair with the next one: the policy hedges, non-stream, a hedge delay. */
export function hedges(policy: PlanPolicy, stream: boolean, target: PlanTarget, next: PlanTarget | undefined): next is PlanTarget {
  return policy.hedge && !stream && next !== undefined && target.hedgeAfterMs !== undefined;
}

/**
 * A complete answer of `target` arrived: it wins unless the other of its pair answered first, in which case what
 * its provider reported is kept (billed beside the winner's) and the attempt ends as a HedgeLost.
 */
export function claimAnswer(book: HedgeBook, target: PlanTarget, usage: Usage | undefined): void {
  if (book.winner !== null) {
    if (usage) book.hedgeUsage.push({ target, usage });
    throw new HedgeLost();
  }
  book.winner = target;
}

/**
 * A hedged pair (non-stream): `a` starts; when it has not answered within its hedgeAfterMs (the router's recent
 * p95 of it), `b` starts too. The first answer wins and the other is aborted upstream. `a` failing before the
 * hedge began is an ordinary failure (the walk moves on to `b`).
 */
export async function hedgedPair(a: PlanTarget, b: PlanTarget, tryTarget: TryTarget): Promise<StepResult> {
  const acA = new AbortController();
  const acB = new AbortController();
  const pA = tryTarget(a, acA.signal);
  let timer: NodeJS.Timeout | undefined;
  const early = await Promise.race([pA.then((r) => ({ r })), new Promise<null>((res) => (timer = setTimeout(() => res(null), a.hedgeAfterMs ?? 0)))]);
  clearTimeout(timer);
  if (early) return early.r === null ? 'ok' : [{ target: a, error: early.r }];
  const pB = tryTarget(b, acB.signal);
  void pA.then((r) => r === null && acB.abort());
  void pB.then((r) => r === null && acA.abort());
  const [ra, rb] = await Promise.all([pA, pB]);
  if (ra === null || rb === null) return 'ok';
  return [
    { target: a, error: ra },
    { target: b, error: rb },
  ];
}
