# bash completion for vantage-testhelper(8).
# packaging/check_cli_docs.py checks these lists against `vantage-testhelper --help`.

declare -gA _vantage_testhelper_cmd_flags=(
  [vantage-testhelper]="-h --help --listen --ca-bundle --allow-net --allow-private --no-system-store --max-body --threads --workers --max-connections --per-ip-connections --head-timeout --request-timeout --idle-timeout --rate --burst"
)
_vantage_testhelper_file_flags=" --ca-bundle "
_vantage_testhelper_value_flags=" --listen --allow-net --max-body --threads --workers --max-connections --per-ip-connections --head-timeout --request-timeout --idle-timeout --rate --burst "

_vantage_testhelper() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
  if [[ $_vantage_testhelper_file_flags == *" $prev "* ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  elif [[ $_vantage_testhelper_value_flags == *" $prev "* ]]; then
    COMPREPLY=()
  else
    COMPREPLY=($(compgen -W "${_vantage_testhelper_cmd_flags[vantage-testhelper]}" -- "$cur"))
  fi
}
complete -F _vantage_testhelper vantage-testhelper
