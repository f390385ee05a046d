/**
 * MLflow's search grammar (filter strings, order_by, page tokens) for experiments, runs,
 * registered models and model versions: parse once per request, then filter and sort entities
 * in memory.
 */

export { compareEntities, effectiveOrder, type OrderTerm, parseOrderBy, sortEntities } from './order-by.ts';
export {
  decodeCursorPageToken,
  decodePageToken,
  encodeCursorPageToken,
  encodePageToken,
  type PageTokenState,
  paginate,
  queryFingerprint,
} from './page-token.ts';
export {
  compileFilter,
  type DatasetSummary,
  type EntityPredicate,
  LikePattern,
  matchesFilter,
  type SearchableEntity,
  storedMetricValue,
} from './search-filter.evaluator.ts';
export {
  type AttributeRule,
  type Clause,
  type ClauseKind,
  type Comparator,
  filterAttributes,
  parseSearchFilter,
  type SearchDialect,
} from './search-filter.parser.ts';
