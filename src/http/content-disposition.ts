// `Content-Disposition: attachment` for a download (RFC 6266 with RFC 8187 `filename*`): the exact
// UTF-8 name for every modern client, plus a plain-ASCII `filename` for the rest.

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** RFC 8187 value-chars: encodeURIComponent leaves `'()*` unescaped, which attr-char does not allow. */
function rfc8187(value: string): string {
  return encodeURIComponent(value).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function attachmentDisposition(filename: string): string {
  // The name came from a signed ZIP: keep only its last path segment and drop control characters.
  const base =
    (filename.split(/[\\/]/).pop() ?? '')
      .replace(/[\u0000-\u001f\u007f]/g, '')
      .replace(LONE_SURROGATE, '\uFFFD')
      .trim() || 'document';
  // ASCII fallback: accents dropped, anything else outside printable ASCII, quotes, backslashes and
  // percent signs (which some clients decode) replaced.
  const fallback = base
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return `attachment; filename="${fallback}"; filename*=UTF-8''${rfc8187(base)}`;
}
