{#- Each member's age band and gender: what they declared in the app, else the entrance camera's
    guesses over their visits (the band and the gender with the most summed confidence), else unknown. #}
with

members as (

    select * from {{ ref('stg_members') }}

),

visits as (

    select * from {{ ref('int_visits') }}

),

estimated_visits as (

    select * from visits
    where demographic_source = 'estimated'

),

band_votes as (

    select
        shopper_id,
        age_band,
        sum(count(*)) over (partition by shopper_id) as estimated_visits,

    from estimated_visits
    group by shopper_id, age_band
    qualify row_number() over (
        partition by shopper_id order by sum(demographic_confidence) desc, age_band
    ) = 1

),

gender_votes as (

    select
        shopper_id,
        gender,

    from estimated_visits
    group by shopper_id, gender
    qualify row_number() over (
        partition by shopper_id order by sum(demographic_confidence) desc, gender
    ) = 1

),

final as (

    select
        members.member_id as shopper_id,
        case
            when members.age_band <> 'unknown' then members.age_band
            else coalesce(band_votes.age_band, 'unknown')
        end as age_band,
        case
            when members.gender <> 'unknown' then members.gender
            else coalesce(gender_votes.gender, 'unknown')
        end as gender,
        case
            when members.age_band <> 'unknown' or members.gender <> 'unknown' then 'declared'
            when band_votes.shopper_id is not null then 'estimated'
            else 'unknown'
        end as demographic_source,
        coalesce(band_votes.estimated_visits, 0) as estimated_visits,

    from members
    left join band_votes on members.member_id = band_votes.shopper_id
    left join gender_votes on members.member_id = gender_votes.shopper_id

)

select * from final
