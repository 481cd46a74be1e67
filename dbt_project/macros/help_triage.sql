{#- ads.help_request_triage: the last columns of a decision, help and detected alike (they are
    unioned): whom each rule would call, from the rules row the decision took, and whether that
    rule still fires in the window after (the rules row joined as verify). -#}
{% macro targets_and_verification(rules_row) -%}
    {{ rules_row }}.user_id as requester, {{ rules_row }}.peer_device_user as peer_device_user,
        {{ rules_row }}.network_user as network_user, {{ rules_row }}.media_user as media_user,
        {{ rules_row }}.courseware_user as courseware_user, verify.user_id as verify_user,
        [
            verify.fires_1, verify.fires_2, verify.fires_3, verify.fires_4, verify.fires_5,
            verify.fires_6, verify.fires_7
        ][{{ rules_row }}.rule_no] as still_fires
{%- endmacro %}
