import type { Page } from "@fluenzr/core/util";
import type { Context } from "hono";

/** The success envelope of SPEC §1. */
export const ok = <T>(c: Context, data: T, status: 200 | 201 = 200) => c.json({ success: true as const, data }, status);

export const okPage = <T>(c: Context, page: Page<T>) => c.json({ success: true as const, data: page.data, meta: page.meta });
