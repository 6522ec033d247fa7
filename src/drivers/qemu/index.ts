/**
 * The qemu driver's public surface for the CLI (`hallmark images`, `images rm`)
 * and the library: the image store functions and the driver class.
 */
export { QemuDriver } from './driver.js';
export { qemuDriverSchema, type QemuDriverOptions } from './schema.js';
export { listImages, getImage, removeImage, imagePath, defaultStoreDir, type StoredImage } from './store.js';
