# gb2's gbasf2-style environment, for tools that source a gbasf2 setup script (b2luigi):
#
#     source "$(gb2_config gbasf2-setup)" [-g GROUP]       (bash or zsh)
#
# Puts the Python interpreter gb2 is installed in and the gb2 commands first on PATH,
# and gb2's DIRAC/BelleDIRAC compatibility modules first on PYTHONPATH. It works in an
# empty environment (`env -i HOME=$HOME bash -c 'source ... && env'`, as b2luigi runs
# it): gb2 then uses the active profile of ~/.config/gb2/config.yaml (gb2_config use),
# since GB2_* variables are not passed on. -g GROUP is accepted as gbasf2's setup
# accepts it; the group of a login is the one gb2_proxy_init -g asks for.

_gb2_gbasf2_setup() {
    local src here site libdir pyname prefix py out group=belle
    while [ $# -gt 0 ]; do
        case "$1" in
            -g|--group)
                if [ $# -lt 2 ]; then echo "gb2 setup: error: $1 needs a group name" >&2; return 2; fi
                group=$2; shift 2 ;;
            -h|--help)
                echo "usage: source setup.sh [-g GROUP]"; return 0 ;;
            *)
                echo "gb2 setup: error: unknown argument '$1' (usage: source setup.sh [-g GROUP])" >&2; return 2 ;;
        esac
    done
    case "$group" in
        ''|*[!A-Za-z0-9_-]*) echo "gb2 setup: error: invalid group name '$group'" >&2; return 2 ;;
    esac

    src=${BASH_SOURCE[0]:-}
    if [ -z "$src" ] && [ -n "${ZSH_VERSION:-}" ]; then eval 'src=${(%):-%x}'; fi
    here=$(cd -P "$(dirname "$src")" && pwd) || return 1
    site=$(dirname "$(dirname "$here")")   # .../site-packages, or a source checkout
    libdir=$(dirname "$site")               # .../lib/python3.X
    pyname=$(basename "$libdir")
    prefix=$(dirname "$(dirname "$libdir")")
    # The interpreter whose gb2 is this folder: a venv or prefix install, a --user
    # install of a system python, a source checkout with its .venv, or python3.
    for py in "$prefix/bin/$pyname" "$prefix/bin/python3" "$pyname" "$site/.venv/bin/python3" python3; do
        case "$py" in
            */*) [ -x "$py" ] || continue ;;
            *) command -v "$py" >/dev/null 2>&1 || continue ;;
        esac
        # -c, without the current folder on sys.path: only an installed gb2 counts
        if out=$("$py" -c 'import sys; del sys.path[0]; from gb2.gbasf2_env.__main__ import main; sys.exit(main(sys.argv[1:]))' \
                exports "$here" "${PATH:-}" "${PYTHONPATH:-}" 2>/dev/null); then
            eval "$out"
            echo "gb2: gbasf2 environment ready (group $group, python $py)"
            return 0
        fi
    done
    echo "gb2 setup: error: found no Python interpreter with this gb2 installed ($here)" >&2
    return 1
}

if [ -n "${BASH_VERSION:-}" ] && [ "${BASH_SOURCE[0]}" = "$0" ]; then
    echo "gb2 setup: error: source this file (source $0), do not run it" >&2
    exit 2
fi
_gb2_gbasf2_setup "$@"
eval "unset -f _gb2_gbasf2_setup; return $?"
