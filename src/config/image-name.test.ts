import { describe, expect, it } from 'vitest';
import { HallmarkError } from '../kernel/errors.js';
import { renderImageName } from './image-name.js';
import { imageSchema } from './sections.js';

const vars = { suite: 'web', platform: 'ubuntu-22.04', instance: 'web-ubuntu-2204', build_id: 'b-42', timestamp: '20240501T120000Z' };

describe('renderImageName', () => {
  it('fills every placeholder, whitespace in braces allowed', () => {
    expect(renderImageName('{{suite}}-{{platform}}-{{timestamp}}', vars)).toBe('web-ubuntu-22.04-20240501T120000Z');
    expect(renderImageName('golden/{{ instance }}/{{build_id}}', vars)).toBe('golden/web-ubuntu-2204/b-42');
    expect(renderImageName('fixed-name', vars)).toBe('fixed-name');
  });

  it('throws on an unknown placeholder', () => {
    expect(() => renderImageName('{{suite}}-{{date}}', vars)).toThrow(HallmarkError);
  });

  it('matches what the schema admits', () => {
    expect(imageSchema.safeParse({ name: '{{suite}}-{{ build_id }}' }).success).toBe(true);
    expect(imageSchema.safeParse({ name: '{{suite}}-{{date}}' }).success).toBe(false);
    expect(imageSchema.parse({}).name).toBe('{{suite}}-{{platform}}-{{timestamp}}');
  });
});
