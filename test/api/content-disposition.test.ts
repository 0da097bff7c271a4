// attachmentDisposition: the exact UTF-8 name in filename*, a safe ASCII fallback in filename.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { attachmentDisposition } from '../../src/http/content-disposition';

const parts = (header: string) => {
  const m = /^attachment; filename="([^"\\]*)"; filename\*=UTF-8''([A-Za-z0-9!#$&+\-.^_`|~%]+)$/.exec(header);
  assert.ok(m, `well-formed: ${header}`);
  return { fallback: m[1] as string, utf8: decodeURIComponent(m[2] as string) };
};

describe('attachmentDisposition', () => {
  it('plain ASCII names stay as they are', () => {
    assert.equal(attachmentDisposition('contract.pdf'), `attachment; filename="contract.pdf"; filename*=UTF-8''contract.pdf`);
  });

  it('every character of a UTF-8 name survives filename*, and the fallback is printable ASCII', () => {
    for (const name of [
      'договор № 5.pdf',
      'Zürich café.pdf',
      "it's (final) *v2*.pdf",
      '50% off; "quoted".pdf',
      '合同.pdf',
      '😀 emoji.pdf',
    ]) {
      const { fallback, utf8 } = parts(attachmentDisposition(name));
      assert.equal(utf8, name);
      assert.match(fallback, /^[\x20-\x7e]+$/);
      assert.doesNotMatch(fallback, /["\\%]/);
    }
    assert.equal(parts(attachmentDisposition('Zürich café.pdf')).fallback, 'Zurich cafe.pdf', 'accents dropped, letters kept');
  });

  it('a path, control characters and a lone surrogate cannot get into the header', () => {
    assert.equal(parts(attachmentDisposition('../../etc/passwd')).utf8, 'passwd');
    assert.equal(parts(attachmentDisposition('C:\\docs\\x.pdf')).utf8, 'x.pdf');
    assert.equal(parts(attachmentDisposition('a\r\nSet-Cookie: x=1.pdf')).utf8, 'aSet-Cookie: x=1.pdf');
    assert.equal(parts(attachmentDisposition('bad\uD800.pdf')).utf8, 'bad\uFFFD.pdf');
    assert.equal(parts(attachmentDisposition('')).utf8, 'document');
  });
});
