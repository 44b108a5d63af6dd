#!/usr/bin/env zsh -f
# Lists what a real interactive zsh (on a pseudo-terminal, zsh/zpty) offers
# for each LINE with the completion functions of FPATH_DIR: prints
# "### LINE", then zsh's listing (list-choices, Ctrl-D: nothing is inserted)
# with the terminal's escape sequences removed, then "### end".
# usage: zsh -f zsh_complete.zsh FPATH_DIR LINE...
# Used by packaging/check_cli_docs.py: what zsh really offers, not what the
# completion file seems to say.
zmodload zsh/zpty || exit 2
dir=$1
shift
# A tall terminal: a listing longer than the screen would be cut at a
# "Hit TAB for more" prompt (vantage run has some 30 flags).
zpty z 'stty rows 500 columns 160; exec zsh -f -i' || exit 2
zpty -w z "PS1='> '; fpath=(${(q)dir} \$fpath); autoload -U compinit; compinit -u -D; zstyle ':completion:*' list-prompt ''; LISTMAX=10000; unsetopt beep; bindkey -e; echo __RE''ADY__"
zpty -r z out '*__READY__*' || exit 2
# Keys typed before the line editor runs go through the terminal's cooked
# mode, where Ctrl-D is end-of-file: wait for zle (it turns on bracketed paste).
zpty -r z out $'*\e\\[\\?2004h*' || exit 2
for line in "$@"; do
  # Ctrl-D lists the candidates; Ctrl-U drops the line; the sentinel's output
  # (its echo reads __DO""NE__) marks the end of the listing.
  zpty -w -n z "$line"$'\x04\x15echo __DO""NE__\n'
  zpty -r z out '*__DONE__*' || exit 2
  zpty -r z rest $'*\e\\[\\?2004h*' || exit 2
  print -r -- "### $line"
  print -r -- "$out" | sed -e $'s/\x1b\\[[0-9;?]*[A-Za-z]/\\n/g' -e $'s/[\r\x07\x08]/\\n/g'
  print -r -- "### end"
done
zpty -d z
