import type { Page } from "@fluenzr/core/util";
import { Hono, type MiddlewareHandler } from "hono";
import type * as v from "valibot";
import type { ApiEnv } from "./env";
import { keyOnBegin } from "./middleware/auth";
import { idempotent } from "./middleware/idempotency";
import { body, creates, doc, type Entity, type OperationDoc, pageOf, query, type Tag } from "./openapi";
import { ok, okPage } from "./respond";

/** What a collection's module offers its two routes: a page by query, a create from a body. */
export interface Collection<Q extends v.GenericSchema, B extends v.GenericSchema> {
  listQuery: Q;
  list: (query: v.InferOutput<Q>) => Promise<Page<unknown>>;
  createSchema: B;
  create: (input: v.InferOutput<B>) => Promise<unknown>;
}

/** One of the two operations: its id and text; `data` is what it answers (a page of it, or the one created). */
type Operation = Omit<OperationDoc, "data" | "paged" | "status" | "body" | "idempotent"> & { operationId: string; data: Entity };

/**
 * The two routes every collection opens with, declared and mounted together so that what the
 * document says and what the route does cannot part: `GET /` answers a page of `list(query)`
 * (`pageOf`), `POST /` answers 201 with `create(body)`, reads a body and honours
 * `Idempotency-Key` (`creates`). The route file chains its other routes on the app returned.
 */
export function collection<Q extends v.GenericSchema, B extends v.GenericSchema>(
  tag: Tag,
  module: Collection<Q, B>,
  operations: { list: Operation; create: Operation },
  /** `keyOnBegin`: the create's key rides on its transaction's BEGIN (see middleware/auth.ts). */
  options: { keyOnBegin?: boolean } = {},
) {
  const { list, create } = operations;
  const key: MiddlewareHandler<ApiEnv> = options.keyOnBegin ? keyOnBegin : (_c, next) => next();
  return new Hono<ApiEnv>()
    .get("/", doc({ tag, ...list, ...pageOf(list.data) }), query(module.listQuery), async (c) =>
      okPage(c, await module.list(c.req.valid("query") as v.InferOutput<Q>)),
    )
    .post("/", doc({ tag, ...create, ...creates(create.data) }), key, idempotent, body(module.createSchema), async (c) =>
      ok(c, await module.create(c.req.valid("json") as v.InferOutput<B>), 201),
    );
}
