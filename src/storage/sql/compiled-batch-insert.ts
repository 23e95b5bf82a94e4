import { CompiledQuery } from 'kysely';
import type { Kysely } from 'kysely';

/** Statement sizes a batch is cut into: any count is a sum of these, each compiled once. */
const sizes = [256, 64, 16, 4, 1] as const;

/**
 * A multi-row `INSERT … ON CONFLICT (id) DO NOTHING` whose SQL is built by Kysely once per statement size
 * (256, 64, 16, 4, 1 rows) and then reused with new parameters, so a batch costs no query building; a
 * batch runs in one transaction (one commit). Rows must all have the keys of the first row, in the same
 * order (a `toRow` mapper gives that); an `undefined` value is sent as NULL. 256 rows × ~30 columns stays
 * under both SQLite's and PostgreSQL's parameter limits.
 */
export class CompiledBatchInsert<Row extends Record<string, unknown>> {
  private readonly statements = new Map<number, string>();
  private columns: string[] | undefined;

  constructor(
    // The table's row type is generic here; the caller's `Row` is checked against its own schema.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    private readonly db: Kysely<any>,
    private readonly table: string,
    private readonly conflictColumn: string,
  ) {}

  async insert(rows: readonly Row[]): Promise<void> {
    if (rows.length === 0) return;
    const columns = (this.columns ??= Object.keys(rows[0] as Row));
    await this.db.transaction().execute(async (transaction) => {
      let start = 0;
      for (const size of sizes) {
        while (rows.length - start >= size) {
          const parameters: unknown[] = [];
          for (let index = start; index < start + size; index++) {
            const row = rows[index] as Row;
            for (const column of columns) parameters.push(row[column] ?? null);
          }
          await transaction.executeQuery(CompiledQuery.raw(this.sql(size, columns), parameters));
          start += size;
        }
      }
    });
  }

  private sql(size: number, columns: string[]): string {
    let text = this.statements.get(size);
    if (text === undefined) {
      const placeholder = Object.fromEntries(columns.map((column) => [column, null]));
      text = this.db
        .insertInto(this.table)
        .values(Array.from({ length: size }, () => placeholder))
        .onConflict((conflict) => conflict.column(this.conflictColumn).doNothing())
        .compile().sql;
      this.statements.set(size, text);
    }
    return text;
  }
}
