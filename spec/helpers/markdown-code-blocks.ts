/** One fenced code block of a Markdown file. */
export interface CodeBlock {
  /** 1-based line of the opening fence in the file. */
  fenceLine: number;
  /** The info string's first word (the language), lowercased; '' when there is none. */
  lang: string;
  /** The info string's other words (e.g. `run`), as written. */
  flags: string[];
  /** The block's text, without the fences, ending with a newline. */
  code: string;
}

/**
 * The fenced code blocks (``` or ~~~, CommonMark §4.5) of `markdown`, in order. A block inside a
 * list item may be indented: that indentation is removed from its lines. An unclosed fence runs
 * to the end of the file, as CommonMark says.
 */
export function codeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^( {0,3})(`{3,}|~{3,})\s*([^`]*)$/.exec(lines[i]!);
    if (open === null) continue;
    const [, indent, fence, info] = open as unknown as [string, string, string, string];
    const [lang = '', ...flags] = info.trim().split(/\s+/).filter((w) => w !== '');
    const body: string[] = [];
    let j = i + 1;
    const close = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
    for (; j < lines.length && !close.test(lines[j]!); j++) {
      body.push(lines[j]!.startsWith(indent) ? lines[j]!.slice(indent.length) : lines[j]!.trimStart());
    }
    blocks.push({ fenceLine: i + 1, lang: lang.toLowerCase(), flags, code: body.join('\n') + '\n' });
    i = j;
  }
  return blocks;
}
