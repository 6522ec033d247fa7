import { HallmarkError } from '../../kernel/errors.js';

/** qemu or qemu-img failed, or the guest did not come up. The message carries qemu's stderr or the console tail. */
export class QemuError extends HallmarkError {
  override readonly code: string = 'QEMU';
}

/** The `image:` of a qemu platform does not resolve to a usable disk image. */
export class QemuImageError extends HallmarkError {
  override readonly code = 'QEMU_IMAGE';
  override readonly exitCode = 2;
}

/** An image store entry is missing or unreadable. */
export class ImageStoreError extends HallmarkError {
  override readonly code = 'IMAGE_STORE';
}
