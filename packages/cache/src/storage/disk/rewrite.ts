/**
 * Replacing the meta of a stored asset (a revalidation merged a 304 into it). The meta's length may
 * change, so the asset is written again: new header, same body, to a temporary file renamed over the
 * old one, so a reader sees the old pair or the new pair, never a mix.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { READ_CHUNK } from './disk-hit.js';
import { closeFd, readFd } from './fd.js';
import { encodeHeader } from './format.js';
import { TEMP_SUFFIX } from './layout.js';
import { openAsset } from './read.js';

/**
 * Writes `file` again with `meta`. Resolves to the new file size, or undefined when there is no
 * complete asset at `file`.
 */
export async function rewriteMeta(file: string, meta: Uint8Array): Promise<number | undefined> {
  const asset = await openAsset(file).catch(() => undefined);
  if (asset === undefined) return undefined;
  const { header, head } = asset;
  if (header.state !== 'done') {
    if (asset.fd !== undefined) closeFd(asset.fd);
    return undefined;
  }
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`;
  const out = await open(tmp, 'wx');
  try {
    const newHeader = encodeHeader(header.key, meta, header.bodyLength);
    await out.write(newHeader, 0, newHeader.length, 0);
    let at = newHeader.length;
    await out.write(head, 0, head.byteLength, at);
    at += head.byteLength;
    const fd = asset.fd;
    if (fd !== undefined) {
      const buf = Buffer.allocUnsafe(READ_CHUNK);
      for (let pos = head.byteLength; pos < header.bodyLength; ) {
        const want = Math.min(buf.length, header.bodyLength - pos);
        const bytesRead = await readFd(fd, buf, 0, want, header.bodyOffset + pos);
        if (bytesRead === 0) throw new Error(`disk cache: ${file} is shorter than its header says`);
        await out.write(buf, 0, bytesRead, at);
        at += bytesRead;
        pos += bytesRead;
      }
    }
    await out.close();
    await rename(tmp, file);
    return at;
  } catch (e) {
    await out.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw e;
  } finally {
    if (asset.fd !== undefined) closeFd(asset.fd);
  }
}
