import { z } from 'zod';
import { lazy } from '../../kernel/lazy.js';
import { retryShape } from '../shell/schema.js';

/**
 * The `provisioner:` block for `name: file` (hallmark's, like Packer's file
 * provisioner): uploads local files or directories to the machine.
 *
 * `destination` is the full path of the result: a file becomes that file, a
 * directory becomes that directory (merged into it when it exists). A
 * destination ending in `/` is a directory the source goes into under its
 * own name. `mode` is given as a string (`'0644'`, `'u+x'`) because YAML
 * reads an unquoted 0644 as a decimal or octal number depending on its
 * version; it applies recursively to directories. `owner`/`group` are
 * applied with chown (recursively for directories).
 */
export const fileProvisionerSchema = lazy(() => {
  const fileEntry = z.strictObject({
    source: z.string().min(1),
    destination: z.string().regex(/^\//, { message: 'destination must be an absolute path on the machine' }),
    mode: z
      .string({ error: "mode must be a quoted string such as '0644' (YAML reads an unquoted 0644 as a number)" })
      .regex(/^([0-7]{3,4}|[ugoa]*[-+=][rwxXst]*(,[ugoa]*[-+=][rwxXst]*)*)$/, {
        message: "mode must be octal ('0644') or symbolic ('u+x,go-w')",
      })
      .optional(),
    owner: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/, { message: 'owner must be a user name or id' }).optional(),
    group: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/, { message: 'group must be a group name or id' }).optional(),
  });

  return z.strictObject({
    name: z.literal('file'),
    files: z.array(fileEntry).min(1),
    /** Use sudo to put files in place and set owners (default true; a no-op for root). */
    sudo: z.boolean().optional(),
    /** Staging area on the machine for uploads before they move into place. Default `/tmp/hallmark`. */
    root_path: z
      .string()
      .regex(/^\/.+/, { message: 'root_path must be an absolute path other than /' })
      .optional(),
    ...retryShape(),
  });
});

export type FileProvisionerOptions = z.infer<ReturnType<typeof fileProvisionerSchema>>;
export type FileEntry = FileProvisionerOptions['files'][number];
