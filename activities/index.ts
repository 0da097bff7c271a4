// All I/O the workflow needs, built from real or fake dependencies by createActivities(deps).
import type { Db } from 'mongodb';

export interface ActivityDeps {
  db: Db;
}

export function createActivities(deps: ActivityDeps) {
  const signings = deps.db.collection('signings');
  return {
    /** Moves a signing from pending to its final state, once; a retried call changes nothing. */
    async finalizeSigning(input: { signingId: string; status: string; rejectReason?: string }): Promise<void> {
      await signings.updateOne(
        { _id: input.signingId as never, status: 'pending' },
        { $set: { status: input.status, rejectReason: input.rejectReason ?? null, finalizedAt: new Date() } },
      );
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
