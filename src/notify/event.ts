// The one notification a signing sends: its final state, with the same data GET /v1/signings/:id
// answers (toResponse: ids, statuses, times, digests; no personal data).
import type { SigningDoc } from '../store/collections';
import { toResponse, type SigningResponse } from '../signings/service';

export interface FinalStateEvent {
  /** `signing.signed`, `signing.rejected`, `signing.expired`, `signing.withdrawn` or `signing.failed`. */
  type: string;
  /** When the signing became final (the event's time, not the attempt's: that is webhook-timestamp). */
  timestamp: string;
  data: SigningResponse;
}

/** The webhook-id of a signing's final-state notification: the same on every attempt. */
export const finalStateMessageId = (signingId: string): string => `msg_final_${signingId}`;

export function finalStateEvent(doc: SigningDoc): FinalStateEvent {
  return {
    type: `signing.${doc.status}`,
    timestamp: (doc.finalizedAt ?? new Date()).toISOString(),
    data: toResponse(doc),
  };
}
