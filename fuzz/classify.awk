# Classifies one socket_model replay trace by fuzz/divergences.tsv: prints
# "cause<TAB>check<TAB>first failure message<TAB>input", cause NEW when no rule matches.
#   awk -F'\t' -v impl=IMPL -v input=INPUT -f fuzz/classify.awk fuzz/divergences.tsv TRACE
FNR == NR { if ($1 == impl) { n++; cause[n] = $2; check[n] = $3; ty[n] = $4; tr[n] = $5 } next }
/socketpair\(AF_UNIX, / { match($0, /SOCK_[A-Z]+/); type = substr($0, RSTART, RLENGTH) }
{ trace = trace "\n" $0 }
/invariant failed|expected|differ|POLL|MSG_/ && !msg { msg = $0 }
END {
    for (i = 1; i <= n; i++)
        if (type ~ ty[i] && trace ~ tr[i]) { print cause[i] "\t" check[i] "\t" msg "\t" input; exit }
    print "NEW\t-\t" msg "\t" input
}
