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

/**
 * A URL prefix as a user writes it, in the form `urlPrefixes` gives: `https://Host.org/a/b`,
 * `host.org` or `host.org/a/` → `host.org/a/b/`, `host.org/`, `host.org/a/` (scheme, port,
 * query and fragment dropped, host lower-cased, one trailing slash). Undefined if no host.
 */
export function normalizePrefix(text: string): string | undefined {
  let t = text.replace(/^\uFEFF/, "").trim();
  t = t.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").replace(/[?#].*$/, "");
  const slash = t.indexOf("/");
  const host = (slash < 0 ? t : t.slice(0, slash)).toLowerCase().replace(/:\d+$/, "");
  if (!host || /\s/.test(host)) return undefined;
  const segs = (slash < 0 ? "" : t.slice(slash)).split("/").filter(Boolean);
  return `${host}/${segs.map((s) => `${s}/`).join("")}`;
}
