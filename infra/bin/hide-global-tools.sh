# Sourced by .ci/run: rebuilds PATH so that no hand-installed pnpm, tsx, jest (and friends) can be
# found, the way a new machine has none. A folder that holds one of them (often beside node itself,
# e.g. /usr/local/bin) is replaced by a mirror of symlinks to everything else in it.
# After sourcing, `hidden_tool_still_found` names a tool that is still reachable, if any.

VSC_HIDDEN_TOOLS=(pnpm pnpx tsx jest tsc tsup eslint prettier)

hide_global_tools() {
  local mirror_root new_path="" dir tool file name hides
  mirror_root=$(mktemp -d "${TMPDIR:-/tmp}/vsc-ci-path.XXXXXX")
  VSC_PATH_MIRROR=$mirror_root
  local IFS=:
  for dir in $PATH; do
    [ -d "$dir" ] || continue
    hides=0
    for tool in "${VSC_HIDDEN_TOOLS[@]}"; do [ -e "$dir/$tool" ] && hides=1; done
    if [ "$hides" = 0 ]; then
      new_path="$new_path:$dir"
      continue
    fi
    local mirror="$mirror_root/$(printf '%s' "$dir" | tr '/' '_')"
    # A folder listed twice in PATH is mirrored once.
    if [ -d "$mirror" ]; then continue; fi
    mkdir -p "$mirror"
    for file in "$dir"/*; do
      name=${file##*/}
      hides=0
      for tool in "${VSC_HIDDEN_TOOLS[@]}"; do [ "$name" = "$tool" ] && hides=1; done
      if [ "$hides" = 0 ] && [ -x "$file" ]; then ln -s "$file" "$mirror/$name"; fi
    done
    new_path="$new_path:$mirror"
  done
  PATH=${new_path#:}
  export PATH
}

hidden_tool_still_found() {
  local tool
  for tool in "${VSC_HIDDEN_TOOLS[@]}"; do
    if command -v "$tool" >/dev/null 2>&1; then
      printf '%s at %s\n' "$tool" "$(command -v "$tool")"
      return 0
    fi
  done
  return 1
}
