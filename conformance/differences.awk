# Prints, for one results file, the checks whose documented outcome differs between OSes,
# with what this run observed: the part of a run that is news to someone on another OS.
# usage: awk -F '\t' -f differences.awk expectations/*.tsv results.tsv
# Two OSes document different outcomes; "?" (undocumented) and "*" (left open) say nothing.
function documented_difference(    i, first) {
    first = ""
    for (i = 3; i <= 7; i++) {
        if ($i == "?" || $i == "*") continue
        if (first == "") first = $i
        else if ($i != first) return 1
    }
    return 0
}
FNR == 1 { file++ }
/^#/ { if ($1 == "# os") os = $2; next }
$1 == "id" || $1 == "instance" { next }
FILENAME ~ /\.tsv$/ && NF == 8 && $1 !~ /\// {
    doc[$1] = "linux=" $3 " freebsd=" $4 " netbsd=" $5 " openbsd=" $6 " darwin=" $7
    differs[$1] = documented_difference()
    next
}
NF == 7 {
    check = $2
    if (!(check in seen)) { order[++n] = check; seen[check] = "" }
    if (index("," seen[check] ",", "," $6 ",") == 0)
        seen[check] = seen[check] == "" ? $6 : seen[check] "," $6
}
END {
    shown = 0
    for (i = 1; i <= n; i++) {
        c = order[i]
        if (!differs[c]) continue
        if (!shown++) printf "\nchecks whose outcome differs between OSes (observed on %s | documented):\n", os
        printf "  %-44s %-24s | %s\n", c, seen[c], doc[c]
    }
    if (!shown) print "\nno check with a documented OS difference ran"
}
