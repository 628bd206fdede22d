/**
 * The Kysely view of the database. Each domain declares its own tables beside its code
 * (`shared/<domain>/tables.ts`) by augmenting this interface, so the domain owns its persistence.
 * The SQL itself lives in `shared/db/migrations/`.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by module augmentation from each domain
export interface Database {}
