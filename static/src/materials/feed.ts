/**
 * Live materials over the room's hub socket (`materials.subscribe`): the `materials` stream
 * (albums, folders, approved materials) and, for reviewers, the `review` stream, resumed from
 * the last seq held (`hub/stream_feed.ts`).
 */

import { StreamFeed, oneFeedPer } from "../hub/stream_feed";

export type MaterialsStream = "materials" | "review";

export const materialsFeedFor = oneFeedPer(
  (client) =>
    new StreamFeed<MaterialsStream>(client, {
      subscribe: "materials.subscribe",
      resync: "materials.resync",
      read: { materials: "materials.read", review: "materials.review" },
    }),
);
