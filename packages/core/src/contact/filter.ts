import { and, eq, type SQL, sql } from "drizzle-orm";
import { escapeLike } from "../database";
import { type ContactStatus, contactTable } from "./contact.sql";

/**
 * Which contacts of the workspace match: shared by the contact list, the search endpoint and
 * campaign enrolment by filters, so the three can never disagree.
 */
export interface ContactFilter {
  /** Free text: email, first or last name, or company contains it. */
  query?: string;
  /** Email contains it (case-insensitive). */
  email?: string;
  status?: ContactStatus;
  /** Member of at least one of these groups. */
  groupIds?: string[];
  /** Has every one of these tags. */
  tags?: string[];
  /** Custom fields equal to these values (exact match, every key). */
  customFields?: Record<string, string | number | boolean>;
  /** In this IANA timezone (as stored: canonical spelling). */
  timezone?: string;
}

const contains = (column: SQL | typeof contactTable.email, value: string) => sql`${column} ILIKE ${`%${escapeLike(value)}%`}`;

export function contactConditions(workspaceId: string, filter: ContactFilter): SQL {
  const conditions: SQL[] = [eq(contactTable.workspaceId, workspaceId)];
  if (filter.query) {
    const q = filter.query;
    conditions.push(
      sql`(${contains(contactTable.email, q)} OR ${contains(sql`${contactTable.firstName}`, q)} OR ${contains(sql`${contactTable.lastName}`, q)} OR ${contains(sql`${contactTable.company}`, q)})`,
    );
  }
  if (filter.email) conditions.push(contains(contactTable.email, filter.email));
  if (filter.status) conditions.push(eq(contactTable.status, filter.status));
  if (filter.timezone) conditions.push(eq(contactTable.timezone, filter.timezone));
  if (filter.groupIds?.length) {
    conditions.push(
      // The outer column is spelled out: drizzle renders columns unqualified in one-table selects.
      sql`EXISTS (SELECT 1 FROM group_member gm WHERE gm.contact_id = "contact"."id" AND gm.group_id IN (${sql.join(
        filter.groupIds.map((id) => sql`${id}`),
        sql`, `,
      )}))`,
    );
  }
  if (filter.tags?.length) {
    conditions.push(
      sql`${contactTable.tags} @> ARRAY[${sql.join(
        filter.tags.map((t) => sql`${t}`),
        sql`, `,
      )}]::text[]`,
    );
  }
  if (filter.customFields && Object.keys(filter.customFields).length > 0) {
    conditions.push(sql`${contactTable.customFields} @> ${JSON.stringify(filter.customFields)}::jsonb`);
  }
  return and(...conditions)!;
}
