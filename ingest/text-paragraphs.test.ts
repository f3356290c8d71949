import { describe, expect, it } from 'vitest';
import { markdownParagraphs, plainTextParagraphs } from './text-paragraphs.ts';

describe('plainTextParagraphs', () => {
  it('splits on blank lines and joins wrapped lines', () => {
    expect(plainTextParagraphs('First line\nwraps here.\n\n \n\r\nSecond\tparagraph.\n', 4)).toEqual([
      { text: 'First line wraps here.', page: 4, heading: null },
      { text: 'Second paragraph.', page: 4, heading: null },
    ]);
    expect(plainTextParagraphs(' \n\n ')).toEqual([]);
  });
});

describe('markdownParagraphs', () => {
  it('puts paragraphs under their ATX and setext headings, and takes the first h1 as title', () => {
    const markdown = [
      'Intro before any heading.',
      '',
      '# Pump manual #',
      '',
      'Read this first.',
      '',
      'Maintenance',
      '-----------',
      'Oil the [bearings](https://example.com/bearings) monthly.',
      '',
      '### Torque ![diagram](torque.png)',
      '> Tighten to 40 Nm.',
      '',
      'Second Title',
      '============',
      'Later text.',
    ].join('\n');
    const { title, paragraphs } = markdownParagraphs(markdown);
    expect(title).toBe('Pump manual');
    expect(paragraphs.map((paragraph) => [paragraph.heading, paragraph.text])).toEqual([
      [null, 'Intro before any heading.'],
      ['Pump manual', 'Read this first.'],
      ['Maintenance', 'Oil the bearings monthly.'],
      ['Torque diagram', 'Tighten to 40 Nm.'],
      ['Second Title', 'Later text.'],
    ]);
  });

  it('does not take # lines inside fenced code as headings', () => {
    const markdown = ['## Install', '```sh', '# this is a shell comment', 'npm ci', '```', 'Done.'].join(
      '\n',
    );
    expect(markdownParagraphs(markdown).paragraphs).toEqual([
      { text: '# this is a shell comment npm ci', page: null, heading: 'Install' },
      { text: 'Done.', page: null, heading: 'Install' },
    ]);
  });

  it('makes each list item a paragraph and treats a lone --- as a break', () => {
    const markdown = ['- apples', '- pears', '  still pears', '', '---', '1. first', '2) second'].join('\n');
    expect(markdownParagraphs(markdown).paragraphs.map((paragraph) => paragraph.text)).toEqual([
      '- apples',
      '- pears still pears',
      '1. first',
      '2) second',
    ]);
  });

  it('drops HTML comments and has no title without an h1', () => {
    const { title, paragraphs } = markdownParagraphs('## Only h2\n<!-- hidden\nnote -->Visible');
    expect(title).toBeUndefined();
    expect(paragraphs).toEqual([{ text: 'Visible', page: null, heading: 'Only h2' }]);
  });

  it('gives the headings as text when there is nothing else', () => {
    expect(markdownParagraphs('# Shopping list\n## Groceries\n').paragraphs).toEqual([
      { text: 'Shopping list', page: null, heading: null },
      { text: 'Groceries', page: null, heading: null },
    ]);
  });
});
