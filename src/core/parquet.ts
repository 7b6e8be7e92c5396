import { type AsyncBuffer, type FileMetaData, asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { InputError } from "./errors.js";

/** A Parquet file opened for reading (hyparquet; snappy, gzip, zstd, brotli, lz4). */
export interface ParquetFile {
  /** Top-level column names. */
  columns: string[];
  /**
   * The rows, one row group at a time (a large file is not held whole), with only `columns`
   * read (all if not given). INT64 values, which hyparquet reads as BigInt and JSON cannot
   * write, come as numbers (strings when too large).
   */
  rows(columns?: string[]): AsyncGenerator<Record<string, unknown>>;
}

/** Opens a Parquet file; one that cannot be read is an input error naming `display`. */
export async function openParquet(file: string, display: string): Promise<ParquetFile> {
  let buf: AsyncBuffer;
  let meta: FileMetaData;
  try {
    buf = await asyncBufferFromFile(file);
    meta = await parquetMetadataAsync(buf);
  } catch (err) {
    throw new InputError(`${display}: not a Parquet file this reader reads (${(err as Error).message})`);
  }
  return {
    columns: parquetSchema(meta).children.map((c) => c.element.name),
    async *rows(columns?: string[]) {
      let start = 0;
      for (const rg of meta.row_groups) {
        const end = start + Number(rg.num_rows);
        let rows: Array<Record<string, unknown>>;
        try {
          rows = (await parquetReadObjects({ file: buf, metadata: meta, ...(columns ? { columns } : {}), rowStart: start, rowEnd: end, compressors })) as Array<Record<string, unknown>>;
        } catch (err) {
          throw new InputError(`${display}: cannot read rows ${start + 1}–${end}: ${(err as Error).message}`);
        }
        for (const row of rows) {
          for (const [k, v] of Object.entries(row)) if (typeof v === "bigint") row[k] = Number.isSafeInteger(Number(v)) ? Number(v) : String(v);
          yield row;
        }
        start = end;
      }
    },
  };
}
