import { z } from 'zod';
import { lazy } from '../../kernel/lazy.js';

/**
 * The `driver:` block of the qemu driver. Cheap to import (no implementation),
 * so `hallmark validate` can check it without loading anything else.
 */
export const qemuDriverSchema = lazy(() => {
  return z.strictObject({
    name: z.literal('qemu'),
    /** A base image name (`debian-12`), a local image store id/name, a qcow2 path, or an http(s) URL. */
    image: z.string().min(1).default('debian-12'),
    /** sha256 of the file behind `image`: required when it is a URL, checked when given for a path. */
    image_checksum: z
      .string()
      .regex(/^(sha256:)?[0-9a-fA-F]{64}$/, 'a sha256 hex digest, optionally prefixed with "sha256:"')
      .optional(),
    /** Guest memory in MiB. */
    memory: z.number().int().min(128).default(1024),
    cpus: z.number().int().min(1).max(64).default(2),
    /** Virtual size of the instance disk, as qemu-img understands it (`8G`, `20480M`); grows the overlay. */
    disk_size: z
      .string()
      .regex(/^\d+(\.\d+)?[KMGT]?$/i, 'a size such as 8G or 20480M')
      .optional(),
    accel: z.enum(['auto', 'kvm', 'tcg']).default('auto'),
    /** Extra arguments appended to the qemu command line, as given. */
    qemu_args: z.array(z.string()).default([]),
    username: z.string().min(1).default('debian'),
    /**
     * Give the guest its user and keys through a NoCloud seed ISO. Default: true
     * when the image is not a hallmark-built image (official cloud images).
     */
    cloud_init: z.boolean().optional(),
    /** Seconds to wait for the guest's SSH server after qemu started. */
    boot_timeout: z.number().positive().default(300),
    /** S3 endpoint for `distribute.targets` of the form s3://bucket/prefix (else AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL). */
    s3_endpoint: z.string().url().optional(),
  });
});

export type QemuDriverOptions = z.output<ReturnType<typeof qemuDriverSchema>>;
