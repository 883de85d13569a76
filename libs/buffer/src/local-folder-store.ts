import { randomBytes } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, promises as fs } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { assertBlobKey, type BlobInfo, type BlobStore } from './blob-store';

const isCode = (err: unknown, ...codes: string[]) => codes.includes((err as NodeJS.ErrnoException).code ?? '');

/**
 * The folder must be ours and closed to others: the default lives in the shared temporary folder,
 * where another user could have made it first to swap its subfolders for links.
 */
function prepareRoot(root: string): void {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const st = lstatSync(root);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) {
    throw new Error(
      `the buffer folder ${root} is not a folder owned by this user; remove it or choose another (VSC_BUFFER_DIR)`,
    );
  }
  if ((st.mode & 0o077) !== 0) chmodSync(root, 0o700);
}

/**
 * Blobs as files under one folder (the embedded default). Files are 0600 and folders 0700, since
 * they hold tenants' data (encrypted, but still nobody else's business). Writes go to a temporary
 * file renamed into place, so a reader or a crash never leaves half a blob under its real name.
 */
export function createLocalFolderStore(dir: string): BlobStore {
  const root = dir;
  prepareRoot(root);
  const pathOf = (key: string) => join(root, ...assertBlobKey(key));
  const tempOf = (path: string) => join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);

  async function writeTemp(path: string, data: Buffer): Promise<string> {
    // A concurrent delete may remove the (empty) folder between mkdir and write: try once more.
    for (let attempt = 0; ; attempt++) {
      await fs.mkdir(dirname(path), { recursive: true, mode: 0o700 });
      const temp = tempOf(path);
      try {
        await fs.writeFile(temp, data, { mode: 0o600, flag: 'wx' });
        return temp;
      } catch (err) {
        if (attempt > 0 || !isCode(err, 'ENOENT')) throw err;
      }
    }
  }

  async function removeEmptyParents(path: string): Promise<void> {
    let current = dirname(path);
    while (current.startsWith(root + sep) && current !== root) {
      try {
        await fs.rmdir(current);
      } catch {
        return; // not empty (or already gone): the folders above are needed too
      }
      current = dirname(current);
    }
  }

  async function remove(key: string): Promise<void> {
    const path = pathOf(key);
    await fs.rm(path, { force: true });
    await removeEmptyParents(path);
  }

  async function* walk(path: string, prefix: string): AsyncGenerator<BlobInfo> {
    let entries;
    try {
      entries = await fs.readdir(path, { withFileTypes: true });
    } catch (err) {
      if (isCode(err, 'ENOENT', 'ENOTDIR')) return;
      throw err;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const full = join(path, entry.name);
      const key = relative(root, full).split(sep).join('/');
      if (entry.isDirectory()) {
        if ((key + '/').startsWith(prefix) || prefix.startsWith(key + '/')) yield* walk(full, prefix);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        try {
          const st = await fs.stat(full);
          yield { key, size: st.size, lastModified: st.mtime };
        } catch (err) {
          if (!isCode(err, 'ENOENT')) throw err; // deleted while listing
        }
      }
    }
  }

  return {
    kind: 'local',

    async put(key, data) {
      const path = pathOf(key);
      const temp = await writeTemp(path, data);
      try {
        await fs.rename(temp, path);
      } catch (err) {
        await fs.rm(temp, { force: true });
        throw err;
      }
    },

    async putIfAbsent(key, data) {
      const path = pathOf(key);
      const temp = await writeTemp(path, data);
      try {
        // link() fails when the name exists, which rename() would silently replace.
        await fs.link(temp, path);
        return true;
      } catch (err) {
        if (isCode(err, 'EEXIST')) return false;
        throw err;
      } finally {
        await fs.rm(temp, { force: true });
      }
    },

    async get(key, range) {
      const path = pathOf(key);
      try {
        if (!range) return await fs.readFile(path);
        const fh = await fs.open(path, 'r');
        try {
          const out = Buffer.allocUnsafe(range.length);
          let filled = 0;
          while (filled < range.length) {
            const { bytesRead } = await fh.read(out, filled, range.length - filled, range.offset + filled);
            if (bytesRead === 0) break;
            filled += bytesRead;
          }
          return out.subarray(0, filled);
        } finally {
          await fh.close();
        }
      } catch (err) {
        if (isCode(err, 'ENOENT', 'ENOTDIR', 'EISDIR')) return undefined;
        throw err;
      }
    },

    async head(key) {
      try {
        const st = await fs.stat(pathOf(key));
        return st.isFile() ? { key, size: st.size, lastModified: st.mtime } : undefined;
      } catch (err) {
        if (isCode(err, 'ENOENT', 'ENOTDIR')) return undefined;
        throw err;
      }
    },

    list(prefix) {
      if (prefix !== '') assertBlobKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
      // Start in the deepest folder the prefix names: listing one object must not read every other
      // object's folder of its tenant (a commit lists its object; that walk grew with the tenant).
      const folder = prefix.slice(0, prefix.lastIndexOf('/') + 1);
      return walk(folder ? pathOf(folder.slice(0, -1)) : root, prefix);
    },

    delete: remove,

    async deleteMany(keys) {
      for (const key of keys) await remove(key);
    },

    async close() {},
  };
}
