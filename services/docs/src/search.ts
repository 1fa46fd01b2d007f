import { sql, type Kysely } from "kysely";
import {
  AppError,
  SEARCH_LIMIT_DEFAULT,
  SNIPPET_START,
  SNIPPET_STOP,
  PERSONAL_DOCUMENTS,
  SearchQuery,
  markSnippet,
  normalizeSearchQuery,
  parse,
  type DocKind,
  type SearchResults,
} from "@palimpsest/contracts";
import { requireCaller, type RpcContext, type RpcResult } from "@palimpsest/platform";
import { SEARCH_CONFIG } from "./search-index.ts";
import type { DocsDb } from "./schema.ts";

/** A passage of 10 to 30 words around the best run of matches (ts_headline's default choice of passage). */
const HEADLINE_OPTIONS = `StartSel=${SNIPPET_START}, StopSel=${SNIPPET_STOP}, MinWords=10, MaxWords=30`;

interface HitRow {
  id: string;
  title: string;
  kind: DocKind;
  score: number;
  headline: string;
}

/**
 * `GET /api/search`: titles and indexed text of the documents the caller may read (a share of
 * their own or their workspace's role), not in the trash. Who may read is decided by
 * `document_access` (shares and workspace members) at query time, which
 * the command path updates before it answers, so a removed member stops finding a document at
 * once, whatever the index's lag. Titles come from `documents`, so a new or renamed document is
 * found by its title before its text is indexed.
 */
export function createSearch(db: Kysely<DocsDb>) {
  const config = sql.lit(SEARCH_CONFIG);
  return {
    async search(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireCaller(ctx);
      const query = parse(SearchQuery, input ?? {}, "query");
      const inWorkspace =
        query.workspaceId === undefined
          ? sql`true`
          : query.workspaceId === PERSONAL_DOCUMENTS
            ? sql`not exists (select 1 from workspaces w where w.id = d.workspace_id)`
            : sql`exists (select 1 from workspaces w where w.id = d.workspace_id and w.id = ${query.workspaceId})`;
      const text = normalizeSearchQuery(query.q);
      if (!text) throw new AppError("VALIDATION_FAILED", "q must contain something to search for");
      const limit = query.limit ?? SEARCH_LIMIT_DEFAULT;
      // websearch_to_tsquery reads any input without a syntax error (quotes, `or`, `-`); a query
      // of punctuation alone becomes an empty tsquery that matches nothing.
      const rows = await sql<HitRow>`
        with q as (select websearch_to_tsquery(${config}::regconfig, ${text}) as query),
        -- Membership in each branch: for a rare word the planner starts from the GIN index, for a
        -- common one from the caller's memberships (a few thousand rows, not every match).
        hits as (
          select t.doc_id from document_text t join document_access m on m.doc_id = t.doc_id and m.user_id = ${caller.userId}, q
          where t.tsv @@ q.query
          union
          select d.id from documents d join document_access m on m.doc_id = d.id and m.user_id = ${caller.userId}, q
          where to_tsvector(${config}::regconfig, d.title) @@ q.query
        ),
        ranked as (
          select d.id, d.title, d.kind, t.body, t.tsv, q.query,
            ts_rank_cd(setweight(to_tsvector(${config}::regconfig, d.title), 'A') || coalesce(t.tsv, ''::tsvector), q.query) as score
          from hits h
          join documents d on d.id = h.doc_id and d.trashed_at is null and ${inWorkspace}
          left join document_text t on t.doc_id = d.id
          cross join q
          order by score desc, d.id
          limit ${limit}
        )
        select id, title, kind, score::float8 as score,
          case when tsv @@ query then ts_headline(${config}::regconfig, body, query, ${HEADLINE_OPTIONS})
               else ts_headline(${config}::regconfig, title, query, ${HEADLINE_OPTIONS}) end as headline
        from ranked
        order by score desc, id`.execute(db);
      const body: SearchResults = {
        items: rows.rows.map((r) => ({ docId: r.id, title: r.title, kind: r.kind, snippet: markSnippet(r.headline), score: Number(r.score) })),
      };
      return { body };
    },
  };
}
