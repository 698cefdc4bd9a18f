# contrib/range42-context.sh: source this from the shell (or the range42-context
# profile) that runs devkit scripts, to make every devkit call go through
# r42intercept.  Nothing else changes: remove the line to go back.
#
#   . /usr/share/doc/r42intercept/range42-context.sh   (make install puts it there)
r42_lib=/usr/lib/r42intercept/libr42intercept.so
if [ -e "$r42_lib" ]; then
    case " ${LD_PRELOAD:-} " in
    *" $r42_lib "*) ;;
    *) export LD_PRELOAD="$r42_lib${LD_PRELOAD:+ $LD_PRELOAD}" ;;
    esac
    # auto: probe the Proxmox API once per call and fall back to ansible when it
    # does not answer; set to off to switch the fast path off for a session.
    export RANGE42_PROXMOX_API_FORCE="${RANGE42_PROXMOX_API_FORCE:-auto}"
fi
unset r42_lib
