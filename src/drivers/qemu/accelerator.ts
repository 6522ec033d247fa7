import type { Logger } from '../../kernel/events.js';
import { detectAccelerator, type AccelVerdict } from './accel.js';
import { forcedAccelArgs } from './qemu-args.js';

export type { AccelVerdict };

/**
 * The accelerator for a machine: the user's choice (`accel: kvm|tcg`), else
 * detectAccelerator()'s verdict, which boots a kernel under KVM once to know
 * that KVM really works here (a /dev/kvm that exists is not enough).
 */
export async function chooseAccelerator(choice: 'auto' | 'kvm' | 'tcg', signal?: AbortSignal, log?: Logger): Promise<AccelVerdict> {
  if (choice !== 'auto') return { accel: choice, reason: `driver.accel is ${choice}`, args: forcedAccelArgs(choice) };
  return detectAccelerator({ signal, log });
}
