import { access, constants } from 'node:fs/promises';
import { forcedAccelArgs } from './qemu-args.js';

export interface AccelVerdict {
  accel: 'kvm' | 'tcg';
  reason: string;
  args: string[];
}

interface AccelModule {
  detectAccelerator(opts: { cacheDir?: string; signal?: AbortSignal }): Promise<AccelVerdict>;
}

// accel.ts (the KVM/TCG probe) is another module's; loaded lazily and, should
// it be missing from a build, replaced by the /dev/kvm access check below.
const ACCEL_MODULE = './accel.js';

/**
 * The accelerator for a machine: the user's choice (`accel: kvm|tcg`), else
 * detectAccelerator()'s verdict (which checks that KVM really works here).
 */
export async function chooseAccelerator(choice: 'auto' | 'kvm' | 'tcg', signal?: AbortSignal): Promise<AccelVerdict> {
  if (choice !== 'auto') return { accel: choice, reason: `driver.accel is ${choice}`, args: forcedAccelArgs(choice) };
  let mod: AccelModule | undefined;
  try {
    mod = (await import(ACCEL_MODULE)) as AccelModule;
  } catch {
    mod = undefined;
  }
  if (mod?.detectAccelerator) return mod.detectAccelerator({ signal });
  const kvm = await access('/dev/kvm', constants.R_OK | constants.W_OK).then(
    () => true,
    () => false,
  );
  return kvm
    ? { accel: 'kvm', reason: '/dev/kvm is accessible', args: forcedAccelArgs('kvm') }
    : { accel: 'tcg', reason: '/dev/kvm is not accessible: software emulation (slow)', args: forcedAccelArgs('tcg') };
}
