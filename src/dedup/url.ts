/**
 * URL normalisation for URL dedup: scheme and host lower-cased, default ports and fragments
 * dropped, tracking parameters (utm_*, gclid, fbclid, …) and session ids removed, the
 * remaining query parameters kept in their order. The path, its case and its trailing slash
 * are kept as they are: servers may treat /a and /a/ or /A differently.
 */
const TRACKING = /^(utm_[a-z_]+|gclid|fbclid|dclid|msclkid|mc_cid|mc_eid|yclid|_ga|igshid|ref_src)$/i;
const SESSION = /^(sid|sessionid|session_id|phpsessid|jsessionid|aspsessionid[a-z]*|cfid|cftoken)$/i;

export function normalizeUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    return url.trim();
  }
  u.hash = "";
  if ((u.protocol === "http:" && u.port === "80") || (u.protocol === "https:" && u.port === "443")) u.port = "";
  u.pathname = u.pathname.replace(/;jsessionid=[^/]*/i, "");
  const kept = [...u.searchParams].filter(([k]) => !TRACKING.test(k) && !SESSION.test(k));
  u.search = kept.length ? "?" + new URLSearchParams(kept).toString() : "";
  return u.href;
}

/** Path prefixes of a URL for domain annotation: the host root, then the first one and two segments. */
export function urlPrefixes(host: string, pathname: string): Array<{ prefix: string; depth: number }> {
  const segs = pathname.split("/").filter(Boolean);
  const out = [{ prefix: `${host}/`, depth: 0 }];
  if (segs.length >= 2) out.push({ prefix: `${host}/${segs[0]}/`, depth: 1 });
  if (segs.length >= 3) out.push({ prefix: `${host}/${segs[0]}/${segs[1]}/`, depth: 2 });
  return out;
}
