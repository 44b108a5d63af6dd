# bash completion for vantage-collector(8).
# packaging/check_cli_docs.py checks these lists against `vantage-collector --help`.

declare -gA _vantage_collector_cmd_flags=(
  [vantage-collector]="-h --help --listen --store --max-body --rate --burst --trust-proxy --threads --workers --max-connections --per-ip-connections --head-timeout --request-timeout --idle-timeout --query-bytes --tls-cert --tls-key --collector-name --control --no-control --control-ca-bundle --control-allow-net --control-allow-private --control-rate --control-burst --dashboard-assets --dashboard-data"
)
_vantage_collector_file_flags=" --tls-cert --tls-key --control-ca-bundle "
_vantage_collector_dir_flags=" --dashboard-assets --dashboard-data "
_vantage_collector_value_flags=" --listen --store --max-body --rate --burst --trust-proxy --threads --workers --max-connections --per-ip-connections --head-timeout --request-timeout --idle-timeout --query-bytes --collector-name --control-allow-net --control-rate --control-burst "

_vantage_collector() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
  if [[ $_vantage_collector_file_flags == *" $prev "* ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  elif [[ $_vantage_collector_dir_flags == *" $prev "* ]]; then
    COMPREPLY=($(compgen -d -- "$cur"))
  elif [[ $_vantage_collector_value_flags == *" $prev "* ]]; then
    COMPREPLY=()
  else
    COMPREPLY=($(compgen -W "${_vantage_collector_cmd_flags[vantage-collector]}" -- "$cur"))
  fi
}
complete -F _vantage_collector vantage-collector
