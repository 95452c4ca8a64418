/** `completion bash|zsh|fish`: a shell completion script, generated from the commands themselves. */
import { Argument, type Command } from 'commander';
import { ValidationError } from '../../errors';
import type { CliContext } from '../context';

const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

/** Each command's name and its long options (what a shell offers after the command name). */
function commandsOf(program: Command): Array<{ name: string; about: string; options: string[] }> {
  return program.commands.map((c) => ({
    name: c.name(),
    about: c.description().split('(')[0]!.trim().replace(/'/g, ''),
    options: c.options.map((o) => o.long).filter((l): l is string => l !== undefined),
  }));
}

function bash(program: Command): string {
  const cmds = commandsOf(program);
  const cases = cmds.map((c) => `    ${c.name}) opts="${c.options.join(' ')}" ;;`).join('\n');
  return `# rae-sched completion for bash: eval "$(rae-sched completion bash)" (e.g. in ~/.bashrc)
_rae_sched() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmd="" opts="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case \${COMP_WORDS[i]} in -*) ;; *) cmd=\${COMP_WORDS[i]}; break ;; esac
  done
  if [[ -z $cmd ]]; then
    COMPREPLY=($(compgen -W "${cmds.map((c) => c.name).join(' ')} --data-dir --json --debug --help --version" -- "$cur"))
    return
  fi
  case $cmd in
${cases}
  esac
  case \${COMP_WORDS[COMP_CWORD-1]} in --data-dir|--cwd|--watch|--module) COMPREPLY=($(compgen -f -- "$cur")); return ;; esac
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -o default -F _rae_sched rae-sched
`;
}

function zsh(program: Command): string {
  const cmds = commandsOf(program);
  const list = cmds.map((c) => `    '${c.name}:${c.about}'`).join('\n');
  const cases = cmds.map((c) => `    ${c.name}) _arguments ${c.options.map((o) => `'${o}[]'`).join(' ')} '*:file:_files' ;;`).join('\n');
  return `#compdef rae-sched
# rae-sched completion for zsh: rae-sched completion zsh > "\${fpath[1]}/_rae-sched"
_rae_sched() {
  local -a commands
  commands=(
${list}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  case $words[2] in
${cases}
  esac
}
compdef _rae_sched rae-sched
`;
}

function fish(program: Command): string {
  const lines = ['# rae-sched completion for fish: rae-sched completion fish > ~/.config/fish/completions/rae-sched.fish',
    'complete -c rae-sched -f'];
  for (const c of commandsOf(program)) {
    lines.push(`complete -c rae-sched -n '__fish_use_subcommand' -a ${c.name} -d '${c.about}'`);
    for (const o of c.options) lines.push(`complete -c rae-sched -n '__fish_seen_subcommand_from ${c.name}' -l ${o.slice(2)}`);
  }
  return lines.join('\n') + '\n';
}

/** Registers `completion`. Call last: the script lists the commands registered before it. */
export function registerCompletionCommand(program: Command, ctx: CliContext): void {
  program.command('completion')
    .description('print a shell completion script (bash, zsh or fish)')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish'))
    .action((shell: string) => {
      if (!(SHELLS as readonly string[]).includes(shell)) {
        throw new ValidationError(`SHELL: '${shell}' is not one of ${SHELLS.join(', ')}`, 'SHELL');
      }
      const make: Record<Shell, (p: Command) => string> = { bash, zsh, fish };
      ctx.io.stdout(make[shell as Shell](program));
    });
}
