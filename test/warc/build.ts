import { members } from "../../scripts/chaos/records.js";
import { fixture } from "../helpers.js";

/** The CC excerpt as one plain (uncompressed) WARC. */
export function plainCc(): Buffer {
  return Buffer.concat(members(fixture("warc", "CC-MAIN-2020-34-excerpt.resiliparse.warc.gz")).map((m) => m.data));
}

export { gzipMember, members, noiseHtml, requestRecord, responseRecord } from "../../scripts/chaos/records.js";
