# bash completion for vantage(1).
# The commands and their flags are data: adding a command is a line in
# _vantage_cmd_flags (keyed by the command path), its name in
# _vantage_subcommands, and its value-taking flags in the lists below.
# packaging/check_cli_docs.py checks these lists against `vantage --help`.

declare -gA _vantage_cmd_flags=(
  [vantage]="-h --help --version --results-dir --config"
  [vantage run]="--help --catalog --ca-bundle -o --output --control --timeout --connect-timeout --parallelism --no-capture --capture-interface --pcap --collector --upload --no-upload --proxy --geoip-asn-db --geoip-country-db --probe-asn --probe-cc --probe-network-name --resolver-echo-name --json --no-progress --unattended --max-runtime"
  [vantage upload]="--help --collector --ca-bundle --proxy --timeout --list --json"
  [vantage list]="--help"
  [vantage show]="--help --json"
  [vantage catalog]="--help"
  [vantage catalog check]="--help"
  [vantage onboard]="--help --yes"
  [vantage config]="--help"
  [vantage config show]="--help"
  [vantage config get]="--help"
  [vantage config set]="--help"
  [vantage schedule]="--help"
  [vantage schedule install]="--help --every --jitter --systemd --cron"
  [vantage schedule status]="--help"
  [vantage schedule remove]="--help"
)
declare -gA _vantage_subcommands=(
  [vantage]="run upload list show catalog onboard schedule config"
  [vantage catalog]="check"
  [vantage config]="show get set"
  [vantage schedule]="install status remove"
)
# Positional words per command path; "@files" completes file names,
# "@services" the services of the catalog (_vantage_services).
declare -gA _vantage_positionals=(
  [vantage run]="@services"
  [vantage catalog check]="@files"
)

# The services `vantage run` takes: one per catalog file (canary and schema
# aside) of --catalog DIR when it was typed, else of the catalog installed
# beside the program (<prefix>/share/vantage/tests_catalog), as vantage
# itself finds it; then "all".
_vantage_services() {
  local dir=$1 bin f out=""
  if [[ -z $dir ]]; then
    bin=$(command -v vantage) || return
    dir=${bin%/*}/../share/vantage/tests_catalog
  fi
  for f in "$dir"/*.json; do
    [[ -e $f ]] || continue
    f=${f##*/}
    f=${f%.json}
    [[ $f == canary || $f == *.schema ]] && continue
    out+=" $f"
  done
  echo "$out all"
}
# Flags that take a value: a file, a directory, or anything else.
_vantage_file_flags=" -o --output --ca-bundle --pcap --config --geoip-asn-db --geoip-country-db "
_vantage_dir_flags=" --catalog --results-dir "
# Flags of the program itself that may also follow a command.
_vantage_global_flags=" --results-dir --config "
_vantage_value_flags=" --control --timeout --connect-timeout --parallelism --capture-interface --collector --proxy --probe-asn --probe-cc --probe-network-name --resolver-echo-name --max-runtime --every --jitter "

_vantage() {
  local cur prev words cword
  if declare -F _init_completion >/dev/null; then
    _init_completion -s || return
  else
    words=("${COMP_WORDS[@]}") cword=$COMP_CWORD
    cur=${words[cword]} prev=${words[cword - 1]}
  fi
  local takes_value="$_vantage_file_flags$_vantage_dir_flags$_vantage_value_flags"
  local path=vantage i w catalog=""
  for ((i = 1; i < cword; i++)); do
    w=${words[i]}
    if [[ $takes_value == *" $w "* ]]; then
      [[ $w == --catalog ]] && catalog=${words[i + 1]}
      ((i++))
    elif [[ " ${_vantage_subcommands[$path]-} " == *" $w "* ]]; then
      path="$path $w"
    fi
  done
  if [[ $_vantage_file_flags == *" $prev "* ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
    return
  elif [[ $_vantage_dir_flags == *" $prev "* ]]; then
    COMPREPLY=($(compgen -d -- "$cur"))
    return
  elif [[ $_vantage_value_flags == *" $prev "* ]]; then
    return
  fi
  if [[ $cur == -* ]]; then
    local global=""
    [[ $path == vantage ]] || global=$_vantage_global_flags
    COMPREPLY=($(compgen -W "${_vantage_cmd_flags[$path]-} $global" -- "$cur"))
    return
  fi
  local positional=${_vantage_positionals[$path]-}
  if [[ $positional == @files ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  elif [[ $positional == @services ]]; then
    COMPREPLY=($(compgen -W "$(_vantage_services "$catalog")" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "${_vantage_subcommands[$path]-} $positional" -- "$cur"))
  fi
}
complete -F _vantage vantage
