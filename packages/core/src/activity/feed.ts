import { type SQL, sql } from "drizzle-orm";
import * as v from "valibot";
import * as Actor from "../actor";
import * as Database from "../database";
import { invalid, notFound } from "../error";
import { isoDateTime, resolveInstant } from "../stats/range";
import { idOf, pageQuery } from "../util/schema";
import { EVENT_TYPES, type EventType } from "./activity.sql";

/**
 * `GET /campaigns/:id/activity`: the campaign's events, newest first (`occurred_at desc, id
 * desc`, the order of the event_feed indexes).
 *
 * Paging: `cursor` (from `meta.nextCursor`) is keyset paging, as fast on page 100,000 as on page
 * 1; when it is given it wins and `page` is ignored. Without it, `page` skips `(page - 1) ×
 * perPage` events with OFFSET over the index alone (no table rows read for skipped events), fine
 * for the first hundreds of pages. `total`/`totalPages` are counted up to TOTAL_CAP events and
 * left out beyond (counting millions of events on every page is what keyset paging avoids).
 */

export const TOTAL_CAP = 10_000;

export interface ActivityEvent {
  id: string;
  type: EventType;
  contactId: string;
  contactEmail: string | null;
  emailNodeId: string | null;
  /** The email (`msg_…`) the event is about; null for events not tied to one email. */
  messageId: string | null;
  timestamp: Date;
  metadata: Record<string, unknown>;
}

export interface FeedMeta {
  page: number;
  perPage: number;
  total?: number;
  totalPages?: number;
  nextCursor: string | null;
}

/** Where a page starts: the number of events before it, and the last event of the previous page. */
interface Cursor {
  offset: number;
  at: string;
  id: string;
}

const CURSOR = /^(\d{1,12})\|(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)\|([a-z]+_[A-Za-z0-9_]{1,60})$/;

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(`${cursor.offset}|${cursor.at}|${cursor.id}`).toString("base64url");
}

export function decodeCursor(value: string): Cursor | undefined {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(value)) return undefined;
  const match = CURSOR.exec(Buffer.from(value, "base64url").toString());
  if (!match || Number.isNaN(Date.parse(match[2]!))) return undefined;
  return { offset: Number(match[1]), at: match[2]!, id: match[3]! };
}

export const feedQuery = v.object({
  ...pageQuery,
  type: v.optional(v.picklist(EVENT_TYPES, `must be one of ${EVENT_TYPES.join(", ")}`)),
  contactId: v.optional(idOf("con")),
  from: v.optional(isoDateTime),
  to: v.optional(isoDateTime),
  cursor: v.optional(
    v.pipe(
      v.string("must be a string"),
      v.check((value) => decodeCursor(value) !== undefined, "is not a cursor from meta.nextCursor"),
    ),
  ),
});

export type FeedQuery = v.InferOutput<typeof feedQuery>;

export interface FeedFilters {
  type?: EventType;
  contactId?: string;
  from?: Date;
  to?: Date;
}

function where(campaignId: string, filters: FeedFilters): SQL {
  const parts = [sql`e.campaign_id = ${campaignId}`];
  if (filters.type) parts.push(sql`e.type = ${filters.type}`);
  if (filters.contactId) parts.push(sql`e.contact_id = ${filters.contactId}`);
  if (filters.from) parts.push(sql`e.occurred_at >= ${filters.from}`);
  if (filters.to) parts.push(sql`e.occurred_at < ${filters.to}`);
  return sql.join(parts, sql` AND `);
}

/**
 * The filtered count, up to TOTAL_CAP + 1. In index order: the planner then counts along the
 * feed index (index only) rather than hoping to meet enough of the campaign's rows early in a
 * sequential scan.
 */
function cappedCount(filter: SQL): SQL {
  return sql`SELECT count(*)::int AS total FROM (
      SELECT 1 FROM event e WHERE ${filter}
      ORDER BY e.occurred_at DESC NULLS LAST, e.id DESC NULLS LAST LIMIT ${TOTAL_CAP + 1}) capped`;
}

/**
 * One statement: the page's event ids from the feed index alone (after the cursor, or past the
 * OFFSET), then those rows with their contact's email, and the filtered count up to the cap.
 */
export function pageQueryOf(
  workspaceId: string,
  campaignId: string,
  filters: FeedFilters,
  page: { limit: number; offset: number; after?: { at: string; id: string } },
): SQL {
  const filter = where(campaignId, filters);
  const after = page.after ? sql` AND (e.occurred_at, e.id) < (${page.after.at}::timestamptz, ${page.after.id})` : sql``;
  return sql`
    WITH page AS (
      SELECT e.id, e.occurred_at FROM event e
      WHERE ${filter}${after}
      -- NULLS LAST as in the event_feed indexes (the columns are NOT NULL): plain DESC would sort.
      ORDER BY e.occurred_at DESC NULLS LAST, e.id DESC NULLS LAST
      LIMIT ${page.limit}${page.offset ? sql` OFFSET ${page.offset}` : sql``}
    )
    SELECT e.id, e.type, e.contact_id, coalesce(m.to_email, c.email) AS contact_email, e.node_id, e.message_id, e.occurred_at, e.metadata,
           to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at,
           (${cappedCount(filter)}) AS total
    FROM page p
    JOIN event e ON e.id = p.id
    LEFT JOIN message m ON m.id = e.message_id AND m.workspace_id = e.workspace_id
    LEFT JOIN contact c ON c.id = e.contact_id AND c.workspace_id = e.workspace_id
    WHERE e.workspace_id = ${workspaceId}
    ORDER BY p.occurred_at DESC NULLS LAST, p.id DESC NULLS LAST`;
}

interface Row {
  id: string;
  type: EventType;
  contact_id: string;
  contact_email: string | null;
  node_id: string | null;
  message_id: string | null;
  occurred_at: Date | string;
  metadata: Record<string, unknown> | string | null;
  at: string;
  total: number;
}

export async function feed(campaignId: string, query: FeedQuery): Promise<{ data: ActivityEvent[]; meta: FeedMeta }> {
  const workspaceId = Actor.workspaceId();
  const [campaign] = await Database.rows<{ timezone: string }>(
    sql`SELECT timezone FROM campaign WHERE id = ${campaignId} AND workspace_id = ${workspaceId}`,
  );
  if (!campaign) throw notFound("Campaign", campaignId);
  const filters: FeedFilters = {
    type: query.type,
    contactId: query.contactId,
    from: query.from ? resolveInstant(query.from, campaign.timezone, "start") : undefined,
    to: query.to ? resolveInstant(query.to, campaign.timezone, "end") : undefined,
  };
  if (filters.from && filters.to && filters.from >= filters.to) {
    throw invalid([{ path: "from", message: `must be before to (${filters.to.toISOString()})` }]);
  }
  const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
  const offset = cursor ? cursor.offset : (query.page - 1) * query.perPage;
  const rows = await Database.rows<Row>(
    pageQueryOf(workspaceId, campaignId, filters, {
      limit: query.perPage + 1,
      offset: cursor ? 0 : offset,
      after: cursor,
    }),
  );
  let total = rows[0]?.total;
  if (total === undefined) {
    total = offset === 0 ? 0 : ((await Database.rows<{ total: number }>(cappedCount(where(campaignId, filters))))[0]?.total ?? 0);
  }
  const more = rows.length > query.perPage;
  const shown = more ? rows.slice(0, query.perPage) : rows;
  const last = shown[shown.length - 1];
  const known = total <= TOTAL_CAP;
  return {
    data: shown.map((r) => ({
      id: r.id,
      type: r.type,
      contactId: r.contact_id,
      contactEmail: r.contact_email,
      emailNodeId: r.node_id,
      messageId: r.message_id,
      timestamp: Database.toDate(r.occurred_at),
      metadata: (typeof r.metadata === "string" ? JSON.parse(r.metadata) : r.metadata) ?? {},
    })),
    meta: {
      page: Math.floor(offset / query.perPage) + 1,
      perPage: query.perPage,
      ...(known ? { total, totalPages: Math.ceil(total / query.perPage) } : {}),
      nextCursor: more && last ? encodeCursor({ offset: offset + query.perPage, at: last.at, id: last.id }) : null,
    },
  };
}
