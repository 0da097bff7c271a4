// The document file as the vendor API sees it: its content type (which picks the signature type),
// its SHA-512 checksum, and the name it is uploaded under.
import { sha512Hex } from '../lib/hash';

export { sha512Hex };

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  pdf: 'application/pdf',
  xml: 'application/xml',
  txt: 'text/plain',
  json: 'application/json',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  zip: 'application/zip',
};

export function contentTypeFor(filename: string): string {
  const ext = /\.([^.]+)$/.exec(filename)?.[1]?.toLowerCase();
  return (ext && CONTENT_TYPES[ext]) || 'application/octet-stream';
}

export function isPdf(file: { filename: string; contentType?: string }): boolean {
  return (file.contentType ?? contentTypeFor(file.filename)).toLowerCase().split(';')[0]?.trim() === 'application/pdf';
}

export function isXml(file: { filename: string; contentType?: string }): boolean {
  const type = (file.contentType ?? contentTypeFor(file.filename)).toLowerCase().split(';')[0]?.trim() ?? '';
  return type === 'application/xml' || type === 'text/xml' || type.endsWith('+xml');
}

/** `application/pdf` or `application/xml` when the first bytes say so, else undefined (the name decides). */
export function sniffContentType(content: Uint8Array): string | undefined {
  const head = Buffer.from(content.buffer, content.byteOffset, Math.min(content.byteLength, 256)).toString('latin1');
  if (head.startsWith('%PDF-')) return 'application/pdf';
  if (/^(\xef\xbb\xbf)?\s*<\?xml[\s?]/.test(head)) return 'application/xml';
  return undefined;
}

// Bulgarian Streamlined System (the official transliteration), for file names only.
const BG_LATIN: Readonly<Record<string, string>> = {
  а: 'a',
  б: 'b',
  в: 'v',
  г: 'g',
  д: 'd',
  е: 'e',
  ж: 'zh',
  з: 'z',
  и: 'i',
  й: 'y',
  к: 'k',
  л: 'l',
  м: 'm',
  н: 'n',
  о: 'o',
  п: 'p',
  р: 'r',
  с: 's',
  т: 't',
  у: 'u',
  ф: 'f',
  х: 'h',
  ц: 'ts',
  ч: 'ch',
  ш: 'sh',
  щ: 'sht',
  ъ: 'a',
  ь: 'y',
  ю: 'yu',
  я: 'ya',
};

/** Longest multipart file name the client sends (the Swagger sets none; 100 keeps clear of every common limit). */
export const MAX_UPLOAD_FILENAME_CHARS = 100;

/**
 * The file name sent in the multipart `document` part: the base name, Cyrillic transliterated,
 * accents dropped, every character outside `A-Z a-z 0-9 . _ -` replaced by `_` (runs collapsed),
 * capped at 100 characters with the extension kept; `document` when nothing is left.
 * Evrotrust documents no rule; this keeps the name ASCII, quote-free and short (docs/evrotrust.md).
 */
export function uploadFilename(name: string): string {
  const base = name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
  const latin = [...base.normalize('NFC')]
    .map((c) => {
      const lower = c.toLowerCase();
      const t = BG_LATIN[lower];
      if (t === undefined) return c;
      return c === lower ? t : t.charAt(0).toUpperCase() + t.slice(1);
    })
    .join('')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '');
  const clean = (part: string): string =>
    part
      .replace(/[^A-Za-z0-9._-]+/g, '_')
      .replace(/_+/g, '_')
      .replace(/^[._-]+|[._-]+$/g, '');
  const dot = latin.lastIndexOf('.');
  const rawExt = dot >= 0 ? latin.slice(dot + 1) : '';
  const ext = /^[A-Za-z0-9]{1,10}$/.test(rawExt) ? rawExt : '';
  let stem = clean(ext ? latin.slice(0, dot) : latin);
  if (stem === '') stem = 'document';
  const room = MAX_UPLOAD_FILENAME_CHARS - (ext ? ext.length + 1 : 0);
  stem = stem.slice(0, room).replace(/[._-]+$/, '') || 'document';
  return ext ? `${stem}.${ext}` : stem;
}
